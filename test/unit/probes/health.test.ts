import { describe, expect, it, vi } from 'vitest';
import { createHealthService, type HealthDeps, type HealthSnapshot } from '../../../src/probes/health.ts';
import type { Queryable } from '../../../src/db/queryable.ts';
import type { QueueCounts, QueueInspector } from '../../../src/probes/queue-inspector.ts';
import type { RedisInfoSource } from '../../../src/probes/redis-probe.ts';
import { PROBES } from '../../../src/probes/probe-list.ts';
import { fileSchema } from '../../../src/config/file.ts';

/**
 * The health service with small fakes of the interfaces it depends on (a `query()`, PING/INFO, a
 * queue inspector): timing and sharing are the service's own logic, so no server is needed.
 * The real dependencies are exercised in test/integration.
 */
const SERVER_ROW = { version: '16.4', used: '12', max_connections: '100', database: 'app', uptime_s: '3600' };
const INFO = 'redis_version:7.2.4\r\nused_memory:1048576\r\nmaxmemory:0\r\nmaxmemory_policy:noeviction\r\nconnected_clients:3\r\n';
const NEVER = new Promise<never>(() => undefined);
const IDLE: QueueCounts = { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0, prioritized: 0, paused: false };

function fakeDb(answer: () => Promise<void> = async () => undefined): Queryable & { calls: number } {
  const db = {
    calls: 0,
    async query() {
      db.calls += 1;
      await answer();
      return { rows: [SERVER_ROW] };
    },
  };
  return db;
}

const redis: RedisInfoSource = { ping: async () => 'PONG', info: async () => INFO };

function fakeQueues(names: string[], discover: () => Promise<string[]> = async () => names): QueueInspector {
  return {
    discover,
    has: async (name) => names.includes(name),
    stats: async (asked) => new Map(asked.map((name) => [name, { ...IDLE, oldestWaitingAgeMs: null, exists: true }])),
    counts: async () => IDLE,
    oldestWaitingAge: async () => null,
    listing: () => ({ refreshedAt: null, refreshMs: 30_000, lastError: null }),
    detail: () => Promise.reject(new Error('not used by /health')),
    close: async () => undefined,
  };
}

function deps(overrides: Partial<HealthDeps> = {}): HealthDeps {
  return {
    db: fakeDb(),
    redis,
    queues: fakeQueues(['emails', 'reports']),
    thresholdsFor: () => ({ waiting: 1000, failed: 1 }),
    httpTargets: [],
    timeoutMs: 1000,
    missing: {},
    ...overrides,
  };
}

/** The snapshot, or "hung" if it takes far longer than any budget in these tests. */
async function settle(check: Promise<HealthSnapshot>): Promise<HealthSnapshot | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), 5000);
  });
  try {
    return await Promise.race([check, hung]);
  } finally {
    clearTimeout(timer);
  }
}

function byName(snapshot: HealthSnapshot | 'hung') {
  if (snapshot === 'hung') throw new Error('the health check hung');
  return new Map(snapshot.checks.map((c) => [c.name, c]));
}

describe('createHealthService', () => {
  it('gives one evaluated reading per target, grouped in registry order', async () => {
    const snapshot = await createHealthService(deps()).check();
    expect(snapshot.checks.map((c) => [c.kind, c.name, c.status])).toEqual([
      ['postgres', 'Postgres', 'ok'],
      ['redis', 'Redis', 'ok'],
      ['queue', 'emails', 'ok'],
      ['queue', 'reports', 'ok'],
    ]);
    expect(snapshot.status).toBe('ok');
    expect(snapshot.checks[0]).toMatchObject({
      values: { connections_used: 12, connections_max: 100, uptime_s: 3600 },
      facts: { version: '16.4', database: 'app' },
      breaches: [],
    });
    expect(snapshot.checks[1]?.values).toMatchObject({ memory_used_bytes: 1048576, memory_max_bytes: 0, clients: 3, can_evict: 0 });
  });

  it('shares one run between concurrent callers, and starts a fresh one afterwards', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const db = fakeDb(() => gate);
    const health = createHealthService(deps({ db }));

    const callers = Array.from({ length: 5 }, () => health.check());
    release();
    const snapshots = await Promise.all(callers);
    expect(db.calls).toBe(1);
    for (const s of snapshots) expect(s).toBe(snapshots[0]);

    const later = await health.check();
    expect(db.calls).toBe(2);
    expect(later).not.toBe(snapshots[0]);
  });

  it('reports a hung dependency as failing within its own budget, without holding up the others', async () => {
    const health = createHealthService(deps({ db: fakeDb(() => NEVER), timeoutMs: 100 }));
    const checks = byName(await settle(health.check()));
    expect(checks.get('Postgres')).toMatchObject({ status: 'fail', error: 'Postgres did not answer within 100 ms' });
    expect(checks.get('Redis')?.status).toBe('ok');
    expect(checks.get('emails')?.status).toBe('ok');
  });

  it('times out a queue listing that hangs as one failing "BullMQ queues" reading', async () => {
    const health = createHealthService(deps({ queues: fakeQueues([], () => NEVER), timeoutMs: 100 }));
    const snapshot = await settle(health.check());
    const checks = byName(snapshot);
    expect(checks.get('BullMQ queues')).toMatchObject({ kind: 'queue', status: 'fail', error: 'BullMQ queues did not answer within 100 ms' });
    expect(checks.get('Postgres')?.status).toBe('ok');
  });

  it('shows a missing dependency as a failing check with its reason, and lists no queues without Redis', async () => {
    const health = createHealthService(deps({ db: null, redis: null, queues: null, missing: { postgres: 'DATABASE_URL is not set' } }));
    const snapshot = await health.check();
    expect(snapshot.checks.map((c) => [c.name, c.status, c.error])).toEqual([
      ['Postgres', 'fail', 'DATABASE_URL is not set'],
      ['Redis', 'fail', 'not configured'],
    ]);
    expect(snapshot.status).toBe('fail');
  });

  it('turns an error thrown by a probe into a failing reading', async () => {
    const broken: Queryable = {
      query: () => {
        throw new Error('connect ECONNREFUSED postgres://vigil:hunter2@db/app');
      },
    };
    const checks = byName(await createHealthService(deps({ db: broken })).check());
    expect(checks.get('Postgres')).toMatchObject({ status: 'fail', error: 'connect ECONNREFUSED postgres://vigil:***@db/app' });
  });
});

describe('recent(): /health answered from a snapshot, aged by the injected clock', () => {
  const T = Date.parse('2026-11-26T10:00:00Z');
  const MAX_AGE_MS = 2000;

  it('stamps each snapshot with the injected clock, not the wall clock', async () => {
    const snapshot = await createHealthService(deps(), () => T).check();
    expect(snapshot.checkedAt).toEqual(new Date(T));
  });

  it('reuses a young snapshot, refreshes it in the background past half its age, and waits for a fresh one once too old', async () => {
    let now = T;
    // Postgres answers at once, except while a test holds it: then the round of probes waits.
    let hold: Promise<void> = Promise.resolve();
    let release = (): void => undefined;
    const db = fakeDb(() => hold);
    const health = createHealthService(deps({ db }), () => now);

    const first = await health.recent(MAX_AGE_MS);
    expect(db.calls).toBe(1);
    expect(first.checkedAt).toEqual(new Date(T));

    // Exactly half the age allowed: answered from the snapshot, nothing refreshed yet.
    now = T + MAX_AGE_MS / 2;
    expect(await health.recent(MAX_AGE_MS)).toBe(first);
    expect(db.calls).toBe(1);

    // Past half: still answered at once from the snapshot (Postgres is held, so a caller waiting
    // for the probes would hang here), while a refresh starts behind it.
    hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    now = T + MAX_AGE_MS / 2 + 1;
    expect(await health.recent(MAX_AGE_MS)).toBe(first);
    await vi.waitFor(() => expect(db.calls).toBe(2));
    release();
    // check() joins the refresh in flight (single flight): no third round.
    const refreshed = await health.check();
    expect(db.calls).toBe(2);
    expect(refreshed).not.toBe(first);
    expect(refreshed.checkedAt).toEqual(new Date(now));
    expect(await health.recent(MAX_AGE_MS)).toBe(refreshed);

    // Older than allowed: the caller gets a fresh snapshot, never the stale one.
    now += MAX_AGE_MS + 1;
    const fresh = await health.recent(MAX_AGE_MS);
    expect(db.calls).toBe(3);
    expect(fresh).not.toBe(refreshed);
    expect(fresh.checkedAt).toEqual(new Date(now));
  });
});

describe('the probe registry', () => {
  it('has one registration per kind, so /health can group readings by kind', () => {
    const kinds = PROBES.map((p) => p.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    expect(PROBES.map((p) => p.heading)).toEqual(['Postgres', 'Redis', 'Queues', 'HTTP targets', 'Backups']);
  });

  it('lets Vigil\'s own rules name every probe kind, and no other', () => {
    const ruleOn = (probe: string) =>
      fileSchema.safeParse({ alerts: { channels: { default: 'C0DEFAULT' }, rules: [{ name: 'Down', severity: 'warning', probe, down: true }] } }).success;
    expect(PROBES.filter((p) => !ruleOn(p.kind)).map((p) => p.kind)).toEqual([]);
    expect(ruleOn('prometheus')).toBe(false);
  });
});
