import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { connectProbeRedis } from '../../src/db/redis.ts';
import { createLogger } from '../../src/log.ts';
import { createQueueInspector, type QueueInspector } from '../../src/probes/queues.ts';
import { TEST_REDIS_URL, uniqueId } from '../support/env.ts';
import { deleteKeysUnder, keysUnder } from '../support/redis-keys.ts';
import { waitFor } from '../support/wait.ts';

/**
 * createQueueInspector against real BullMQ queues in the machine's Redis. Everything lives under a
 * random prefix; a second prefix that only differs by a trailing character checks discovery stays
 * inside its own prefix.
 */
const prefix = uniqueId('vt');
const otherPrefix = `${prefix}x`;

// Workers need maxRetriesPerRequest: null (blocking commands); the inspector gets its own client
// configured like the container's.
let workerConnection: Redis;
let inspectorRedis: Redis;
let inspector: QueueInspector;
const producers: Queue[] = [];
const workers: Worker[] = [];

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

async function processor(job: Job<{ fail?: string }>): Promise<string> {
  if (job.data.fail) throw new Error(job.data.fail);
  return 'done';
}

beforeAll(async () => {
  workerConnection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  inspectorRedis = await connectProbeRedis(TEST_REDIS_URL, createLogger('silent'));
  inspector = createQueueInspector({ redis: inspectorRedis, prefix });

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
});

afterAll(async () => {
  await inspector?.close();
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
    expect(await inspector.discover()).toEqual(['backlog', 'busy', 'drained', 'held', 'plain']);
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
