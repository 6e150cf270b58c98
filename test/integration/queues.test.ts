import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { connectProbeRedis } from '../../src/db/redis-clients.ts';
import { createLogger } from '../../src/log.ts';
import { createQueueDiscovery, type Timers } from '../../src/probes/queue-discovery.ts';
import { createQueueInspector, type QueueInspector } from '../../src/probes/queue-inspector.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { deleteKeysUnder, keysUnder } from '../support/redis-keys.ts';
import { clientAddress, watchRedisCommands, type CommandWatch } from '../support/redis-monitor.ts';
import { sleep, waitFor } from '../support/wait.ts';

/**
 * createQueueInspector against real BullMQ queues in the machine's Redis. Everything lives under a
 * random prefix; a second prefix that only differs by a trailing character checks discovery stays
 * inside its own prefix. Round trips are counted by Redis itself (MONITOR, per client), so other
 * test files' traffic on the shared server does not count.
 */
const prefix = uniqueName('queues');
const otherPrefix = `${prefix}x`;

// Workers need maxRetriesPerRequest: null (blocking commands); the inspector gets its own client
// configured like the container's.
let workerConnection: Redis;
let inspectorRedis: Redis;
let inspector: QueueInspector;
let watch: CommandWatch;
const producers: Queue[] = [];
const workers: Worker[] = [];
const closers: Array<() => Promise<void> | void> = [];
let releaseHeld: () => void = () => undefined;

// The backlog's two waiting jobs were created 10 and 1 minutes ago (BullMQ takes a job's
// timestamp from its options), so "oldest" and "newest" are minutes apart, not milliseconds.
const setUpAt = Date.now();
const OLDEST_CREATED_AT = setUpAt - 10 * 60_000;
const NEWEST_CREATED_AT = setUpAt - 60_000;
const HELD_CREATED_AT = setUpAt - 5 * 60_000;
const FAILING_REASONS = ['boom 1', 'boom 2'];
let failingJobIds: string[] = [];

function producer(name: string, p = prefix): Queue {
  const q = new Queue(name, { connection: workerConnection, prefix: p });
  producers.push(q);
  return q;
}

async function processor(job: Job<{ fail?: string; hold?: boolean }>): Promise<string> {
  if (job.data.fail) throw new Error(job.data.fail);
  // Stays active until the file is done, so there is an active job to count.
  if (job.data.hold) await new Promise<void>((resolve) => (releaseHeld = resolve));
  return 'done';
}

/** A new queue whose meta hash is written (a Queue writes it after becoming ready, unawaited). */
async function made(name: string): Promise<void> {
  await producer(name).waitUntilReady();
  await waitFor(async () => (await workerConnection.exists(`${prefix}:${name}:meta`)) === 1, { what: `${name}'s meta hash` });
}

/** A probe client of its own (as the container builds it), closed with the file. */
async function probeClient(): Promise<Redis> {
  const client = await connectProbeRedis(TEST_REDIS_URL, createLogger('silent'));
  closers.push(() => client.disconnect());
  return client;
}

function ownInspector(redis: Redis, opts: Partial<Parameters<typeof createQueueInspector>[0]> = {}): ReturnType<typeof createQueueInspector> {
  const made = createQueueInspector({ redis, prefix, ...opts });
  closers.unshift(() => made.close());
  return made;
}

/** Real timers, counted: what is still pending after close() is a timer left behind. */
function countedTimers(): Timers & { live: () => number } {
  const live = new Set<NodeJS.Timeout>();
  return {
    setTimeout(fn, ms) {
      const t = setTimeout(() => {
        live.delete(t);
        fn();
      }, ms);
      live.add(t);
      return t;
    },
    clearTimeout(t) {
      live.delete(t);
      clearTimeout(t);
    },
    live: () => live.size,
  };
}

beforeAll(async () => {
  workerConnection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  inspectorRedis = await connectProbeRedis(TEST_REDIS_URL, createLogger('silent'));

  // backlog: two waiting jobs, added oldest first as a real producer would, and one delayed job;
  // no worker.
  const backlog = producer('backlog');
  await backlog.add('first', {}, { timestamp: OLDEST_CREATED_AT });
  await backlog.add('second', {}, { timestamp: NEWEST_CREATED_AT });
  await backlog.add('later', {}, { delay: 60_000 });

  // held: one job, queue paused.
  const held = producer('held');
  await held.add('job', {}, { timestamp: HELD_CREATED_AT });
  await held.pause();

  // drained: had a job once, none left; only the meta hash (and id counter) remain.
  const drained = producer('drained');
  const gone = await drained.add('job', {});
  await drained.remove(gone.id ?? '');

  // busy: a live worker recording metrics; 3 jobs complete, 2 fail on their only attempt.
  const busy = producer('busy');
  const busyJobs = await busy.addBulk([
    { name: 'ok', data: {}, opts: { attempts: 1 } },
    { name: 'bad', data: { fail: FAILING_REASONS[0] }, opts: { attempts: 1 } },
    { name: 'ok', data: {}, opts: { attempts: 1 } },
    { name: 'bad', data: { fail: FAILING_REASONS[1] }, opts: { attempts: 1 } },
    { name: 'ok', data: {}, opts: { attempts: 1 } },
  ]);
  failingJobIds = busyJobs.filter((j) => j.name === 'bad').map((j) => String(j.id));
  const busyWorker = new Worker('busy', processor, { connection: workerConnection, prefix, metrics: { maxDataPoints: 60 } });
  workers.push(busyWorker);

  // plain: processed by a worker without metrics, which has since gone away.
  const plain = producer('plain');
  await plain.add('ok', {});
  const plainWorker = new Worker('plain', processor, { connection: workerConnection, prefix });
  workers.push(plainWorker);

  // Another prefix that shares our prefix as a string prefix: must never be discovered.
  await producer('elsewhere', otherPrefix).add('job', {});

  await waitFor(
    async () => {
      const [b, p] = await Promise.all([busy.getJobCounts('completed', 'failed'), plain.getJobCounts('completed')]);
      return b.completed === 3 && b.failed === 2 && p.completed === 1;
    },
    { what: 'workers to finish the busy and plain jobs' },
  );
  await plainWorker.close();

  // mixed: one job in every state BullMQ counts. A worker with concurrency 1 completes one job,
  // fails one, then holds the third (active), so the ones added after it stay put.
  const mixed = producer('mixed');
  await mixed.addBulk([
    { name: 'ok', data: {}, opts: { attempts: 1 } },
    { name: 'bad', data: { fail: 'mixed boom' }, opts: { attempts: 1 } },
    { name: 'hold', data: { hold: true }, opts: { attempts: 1 } },
  ]);
  workers.push(new Worker('mixed', processor, { connection: workerConnection, prefix, concurrency: 1 }));
  await waitFor(
    async () => {
      const c = await mixed.getJobCounts('completed', 'failed', 'active');
      return c.completed === 1 && c.failed === 1 && c.active === 1;
    },
    { what: 'the mixed worker to hold its third job' },
  );
  await mixed.add('wait-old', {}, { timestamp: OLDEST_CREATED_AT });
  await mixed.add('wait-new', {}, { timestamp: NEWEST_CREATED_AT });
  await mixed.addBulk([1, 2, 3].map((priority) => ({ name: 'urgent', data: {}, opts: { priority } })));
  await mixed.add('later', {}, { delay: 60_000 });

  // Made after every queue exists: its first scan, started at creation, finds them all.
  inspector = createQueueInspector({ redis: inspectorRedis, prefix });
  watch = await watchRedisCommands(TEST_REDIS_URL, { addr: await clientAddress(inspectorRedis) });
});

afterAll(async () => {
  watch?.close();
  await inspector?.close();
  for (const close of closers) await close();
  releaseHeld();
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(producers.map((q) => q.close()));
  if (workerConnection) {
    await deleteKeysUnder(workerConnection, prefix);
    await deleteKeysUnder(workerConnection, otherPrefix);
    workerConnection.disconnect();
  }
  inspectorRedis?.disconnect();
});

describe('discover()', () => {
  it('finds exactly the queues under its prefix, including one with no jobs left', async () => {
    expect(await inspector.discover()).toEqual(['backlog', 'busy', 'drained', 'held', 'mixed', 'plain']);
  });

  it('does not see queues under another prefix', async () => {
    const other = createQueueInspector({ redis: inspectorRedis, prefix: otherPrefix });
    try {
      expect(await other.discover()).toEqual(['elsewhere']);
    } finally {
      await other.close();
    }
  });
});

describe('the queue list is refreshed in the background', () => {
  it('is not read again per call: no SCAN while answering, one walk on refresh', async () => {
    const redis = await probeClient();
    const own = ownInspector(redis, { refreshMs: 60_000 });
    expect(await own.discover()).toContain('backlog');
    await own.stats(['backlog']); // loads the script once if Redis had not seen it
    const calls = await watchRedisCommands(TEST_REDIS_URL, { addr: await clientAddress(redis) });
    closers.push(() => calls.close());

    const { commands: answering } = await calls.during(async () => {
      for (let i = 0; i < 5; i++) await own.stats(await own.discover());
    });
    expect(answering).toEqual(Array.from({ length: 5 }, () => 'evalsha'));

    const { commands: refreshing } = await calls.during(() => own.refresh());
    expect(refreshing.length).toBeGreaterThanOrEqual(1);
    expect(new Set(refreshing)).toEqual(new Set(['scan']));
  });

  it('shows a new queue once the list is refreshed, and when asked for by name at once', async () => {
    const redis = await probeClient();
    const own = ownInspector(redis, { refreshMs: 60_000 });
    expect(await own.discover()).not.toContain('newcomer');
    await made('newcomer');
    // Cached: the queue made after the last scan is not listed yet...
    expect(await own.discover()).not.toContain('newcomer');
    // ...but /queue newcomer finds it (one EXISTS), and the next refresh lists it.
    expect(await own.has('newcomer')).toBe(true);
    expect(await own.has('never-made')).toBe(false);
    expect(await own.refresh()).toContain('newcomer');
    expect(own.listing()).toMatchObject({ refreshMs: 60_000, lastError: null });
    expect(own.listing().refreshedAt).toBeGreaterThan(setUpAt);
  });

  it('refreshes by itself every refreshMs', async () => {
    const redis = await probeClient();
    const own = ownInspector(redis, { refreshMs: 100 });
    expect(await own.discover()).not.toContain('latecomer');
    await made('latecomer');
    await waitFor(async () => (await own.discover()).includes('latecomer'), { what: 'the timer-driven refresh to list latecomer' });
  });

  it('lists configured queues at once, and waits for a first scan that hangs only so long', async () => {
    // A Redis that accepted the connection and then stops answering: the first SCAN never ends.
    const target = new URL(TEST_REDIS_URL);
    const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 6379) });
    closers.push(() => proxy.close());
    const hung = new Redis({ host: '127.0.0.1', port: proxy.port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
    hung.on('error', () => undefined);
    await hung.connect();
    await proxy.set('silent');
    closers.push(() => hung.disconnect());

    const own = ownInspector(hung, { configured: ['planned', 'backlog'], firstWaitMs: 200 });
    const start = performance.now();
    expect(await own.discover()).toEqual(['backlog', 'planned']);
    expect(performance.now() - start).toBeGreaterThanOrEqual(195);
    expect(own.listing()).toEqual({ refreshedAt: null, refreshMs: 30_000, lastError: null });
  });

  it('with Redis down, fails the listing with the reason and keeps retrying quietly; close leaves no timer', async () => {
    const dead = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 500, retryStrategy: () => null });
    dead.on('error', () => undefined);
    await dead.connect().catch(() => undefined);
    closers.push(() => dead.disconnect());
    const timers = countedTimers();
    const discovery = createQueueDiscovery({ redis: dead, prefix, refreshMs: 20, timers });
    await expect(discovery.names()).rejects.toThrow(/closed|writeable|ECONNREFUSED/);
    expect(discovery.listing().lastError).toMatch(/closed|writeable|ECONNREFUSED/);
    // Several failed refreshes later (no unhandled rejection: vitest would fail the file), one
    // timer is pending; after close, none.
    await waitFor(async () => (await discovery.names().catch(() => null)) === null && timers.live() === 1, { what: 'the next refresh to be scheduled' });
    await discovery.close();
    expect(timers.live()).toBe(0);
  });

  it('stops on close: the pending refresh timer is cleared', async () => {
    const redis = await probeClient();
    const timers = countedTimers();
    const discovery = createQueueDiscovery({ redis, prefix, refreshMs: 50, timers });
    await discovery.names();
    await waitFor(() => timers.live() === 1, { what: 'the next refresh to be scheduled' });
    const calls = await watchRedisCommands(TEST_REDIS_URL, { addr: await clientAddress(redis) });
    closers.push(() => calls.close());
    await discovery.close();
    expect(timers.live()).toBe(0);
    // Four refresh intervals on the same client: not one SCAN.
    const { commands } = await calls.during(() => sleep(200));
    expect(commands).toEqual([]);
  });
});

describe('stats()', () => {
  const NAMES = ['backlog', 'busy', 'drained', 'held', 'mixed', 'plain'];

  it('reads every queue in one round trip', async () => {
    await inspector.stats(NAMES); // loads the script once if Redis had not seen it
    const { result, commands } = await watch.during(() => inspector.stats(NAMES));
    expect(commands).toEqual(['evalsha']);
    expect([...result.keys()]).toEqual(NAMES);

    // Many queues, most of them empty: still one.
    const many = [...NAMES, ...Array.from({ length: 300 }, (_, i) => `absent-${i}`)];
    const { result: all, commands: once } = await watch.during(() => inspector.stats(many));
    expect(once).toEqual(['evalsha']);
    expect(all.size).toBe(many.length);
    expect(all.get('absent-7')).toMatchObject({ waiting: 0, exists: false, oldestWaitingAgeMs: null });
  });

  it("agrees with BullMQ's own counts, paused flag and oldest waiting job, in every state", async () => {
    const now = Date.now();
    const stats = await inspector.stats(NAMES, now);
    for (const name of NAMES) {
      const q = producer(name);
      const [c, paused, [oldest]] = await Promise.all([
        q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'),
        q.isPaused(),
        q.getJobs(['waiting'], 0, 0, true),
      ]);
      expect(stats.get(name), name).toEqual({ ...c, paused, oldestWaitingAgeMs: oldest ? now - oldest.timestamp : null, exists: true });
    }
    // The queue with a job in every state, spelled out.
    expect(stats.get('mixed')).toEqual({
      waiting: 2,
      active: 1,
      delayed: 1,
      failed: 1,
      completed: 1,
      prioritized: 3,
      paused: false,
      oldestWaitingAgeMs: now - OLDEST_CREATED_AT,
      exists: true,
    });
  });
});

describe('stats() with a BullMQ v5 wait-list marker', () => {
  it('does not count the marker as a job, skips it for the oldest age, and leaves it in place', async () => {
    // BullMQ 5 could leave a "0:<timestamp>" marker at the tail of `wait`; v6's getCounts still
    // skips it (and pops it: a write, which Vigil must not do). Written here as v5 left it.
    const legacy = producer('legacy');
    await legacy.add('job', {}, { timestamp: HELD_CREATED_AT });
    await workerConnection.rpush(`${prefix}:legacy:wait`, '0:0');
    const now = Date.now();
    const s = (await inspector.stats(['legacy'], now)).get('legacy');
    expect(s).toMatchObject({ waiting: 1, oldestWaitingAgeMs: now - HELD_CREATED_AT });
    expect(await workerConnection.lrange(`${prefix}:legacy:wait`, -1, -1)).toEqual(['0:0']);
  });
});

describe('counts()', () => {
  it('reports waiting and delayed jobs', async () => {
    const c = await inspector.counts('backlog');
    expect(c).toMatchObject({ waiting: 2, delayed: 1, active: 0, failed: 0, completed: 0, paused: false });
  });

  it('reports completed and failed jobs from a real worker', async () => {
    const c = await inspector.counts('busy');
    expect(c).toMatchObject({ completed: 3, failed: 2, waiting: 0, paused: false });
  });

  it('reports a paused queue', async () => {
    const c = await inspector.counts('held');
    expect(c.paused).toBe(true);
    // The job of a paused queue is still there, counted as waiting.
    expect(c.waiting).toBe(1);
  });

  it('reports zeros for a queue with no jobs left', async () => {
    expect(await inspector.counts('drained')).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
      failed: 0,
      completed: 0,
      prioritized: 0,
      paused: false,
    });
  });
});

describe('detail()', () => {
  it('gives the age of the oldest waiting job, not the newest', async () => {
    const now = Date.now();
    const d = await inspector.detail('backlog', now);
    expect(d.name).toBe('backlog');
    expect(d.oldestWaitingAgeMs).toBe(now - OLDEST_CREATED_AT);
    expect(await inspector.oldestWaitingAge('backlog', now)).toBe(now - OLDEST_CREATED_AT);
    expect(d.workers).toBe(0);
    expect(d.recentFailures).toEqual([]);
  });

  it('counts a paused queue\'s jobs as waiting, with their age', async () => {
    const now = Date.now();
    expect(await inspector.oldestWaitingAge('held', now)).toBe(now - HELD_CREATED_AT);
  });

  it('has no oldest waiting age when nothing waits', async () => {
    const d = await inspector.detail('drained');
    expect(d.oldestWaitingAgeMs).toBeNull();
    expect(await inspector.oldestWaitingAge('drained')).toBeNull();
  });

  it('lists recent failures with their reasons and attempts', async () => {
    const d = await inspector.detail('busy');
    expect(d.recentFailures).toHaveLength(2);
    expect(d.recentFailures.map((f) => f.reason).sort()).toEqual(FAILING_REASONS);
    expect(d.recentFailures.map((f) => f.jobId).sort()).toEqual([...failingJobIds].sort());
    const now = Date.now();
    for (const f of d.recentFailures) {
      expect(f.jobName).toBe('bad');
      expect(f.attempts).toBe(1);
      expect(f.finishedAt).toBeGreaterThanOrEqual(setUpAt);
      expect(f.finishedAt).toBeLessThanOrEqual(now);
    }
  });

  it('counts connected workers', async () => {
    expect((await inspector.detail('busy')).workers).toBe(1);
    // plain's worker has been closed.
    expect((await inspector.detail('plain')).workers).toBe(0);
  });

  it('reports throughput from the metrics a worker records', async () => {
    const d = await inspector.detail('busy');
    expect(d.throughput).not.toBeNull();
    expect(d.throughput?.minutes).toBe(15);
    // All five jobs finished seconds ago, well inside the window.
    expect(d.throughput?.completed).toBe(3);
    expect(d.throughput?.failed).toBe(2);
  });

  it('counts only the last 15 minutes, including the minute BullMQ has not pushed to its list yet', async () => {
    // BullMQ's metrics layout (collectMetrics.lua): the hash holds a running `count` and, for the
    // minute of `prevTS`, the `prevCount` it started from; `:data` (LPUSH, newest first) holds one
    // count per earlier minute, data[i] being i + 1 minutes before prevTS's minute. A real worker
    // cannot span 15 minutes in a test, so the keys are written here as the script would.
    const minute = 60_000;
    const now = Math.floor(Date.now() / minute) * minute + 30_000;
    const seed = async (type: 'completed' | 'failed', prevTS: number, pending: number, data: number[]): Promise<void> => {
      const key = `${prefix}:seeded:metrics:${type}`;
      await workerConnection.hset(key, 'count', String(100 + pending), 'prevTS', String(prevTS), 'prevCount', '100');
      await workerConnection.rpush(`${key}:data`, ...data.map(String));
    };
    // Newest point 2 minutes ago: 4 jobs there; 1 the minute before; 5 fourteen minutes ago (the
    // oldest minute inside the window); 7 fifteen minutes ago (outside).
    const data = Array.from({ length: 20 }, () => 0);
    data[0] = 1;
    data[11] = 5;
    data[12] = 7;
    await seed('completed', now - 2 * minute, 4, data);
    // Failures last seen 20 minutes ago: nothing in the window.
    await seed('failed', now - 20 * minute, 3, [2, 2, 2]);

    const d = await inspector.detail('seeded', now);
    expect(d.throughput).toEqual({ minutes: 15, completed: 4 + 1 + 5, failed: 0 });
  });

  it('reports unknown throughput when workers do not record metrics', async () => {
    const d = await inspector.detail('plain');
    expect(d.completed).toBe(1);
    expect(d.throughput).toBeNull();
  });
});

describe('inspection is read-only', () => {
  it('does not rewrite an existing meta hash', async () => {
    const metaKey = `${prefix}:backlog:meta`;
    // Pretend an older BullMQ wrote it: a Queue without skipMetasUpdate would overwrite `version`.
    await workerConnection.hset(metaKey, 'version', 'bullmq:0.0.1-vigil-test');
    const before = await workerConnection.hgetall(metaKey);

    const fresh = createQueueInspector({ redis: inspectorRedis, prefix });
    try {
      await fresh.counts('backlog');
      await fresh.detail('backlog');
      // A meta write would be fire-and-forget, sent on this connection once the Queue is ready
      // (before the calls above); a round trip on the same connection waits for it, not a timer.
      await inspectorRedis.ping();
    } finally {
      await fresh.close();
    }
    expect(await workerConnection.hgetall(metaKey)).toEqual(before);
  });

  it('creates no keys when inspecting a queue that does not exist', async () => {
    const before = await keysUnder(workerConnection, prefix);
    const fresh = createQueueInspector({ redis: inspectorRedis, prefix });
    try {
      const d = await fresh.detail('ghost');
      expect(d).toMatchObject({ waiting: 0, failed: 0, paused: false, throughput: null, oldestWaitingAgeMs: null });
      await inspectorRedis.ping();
    } finally {
      await fresh.close();
    }
    const after = await keysUnder(workerConnection, prefix);
    expect(after.filter((k) => k.startsWith(`${prefix}:ghost:`))).toEqual([]);
    expect(after).toEqual(before);
    expect(await inspector.discover()).not.toContain('ghost');
  });
});
