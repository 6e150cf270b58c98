import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { commands } from '../../commands/index.ts';
import { bindCommands, type Invoker } from '../../src/core/command.ts';
import type { CommandDeps } from '../../src/core/deps.ts';
import { createDispatcher, type CommandRun, type DispatchResult } from '../../src/core/dispatch.ts';
import type { Reply, Section } from '../../src/core/reply.ts';
import { createHealthService, type HealthSnapshot } from '../../src/probes/health.ts';
import type { HttpTarget } from '../../src/probes/http.ts';
import { createPool } from '../../src/db/pools.ts';
import { connectProbeRedis } from '../../src/db/redis.ts';
import { createLogger } from '../../src/log.ts';
import { createQueueInspector, type QueueDetail, type QueueThresholds } from '../../src/probes/queues.ts';
import type { EvaluatedReading } from '../../src/probes/reading.ts';
import type { ActivityRow, StatementStat, StatementsUnavailable } from '../../src/probes/statements.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL, uniqueId } from '../support/env.ts';
import { startFreezableProxy } from '../support/freezable-proxy.ts';
import { adminQuery, createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The real commands through the real dispatcher, with real dependencies: a pg Pool, ioredis,
 * the BullMQ queue inspector and the health service.
 */
const invoker: Invoker = { surface: 'cli', userId: 'U_TEST', userName: 'tester' };
const relaxed = (): QueueThresholds => ({ waiting: 1000, failed: 1000 });
const PROBE_TIMEOUT_MS = 1000;
/** Generous: the point is "does not hang", on a loaded 2-core machine. */
const REPLY_WITHIN_MS = PROBE_TIMEOUT_MS + 3000;
// A fixed clock, so ages are exact: the oldest emails job was created 10 minutes before it.
const NOW = Date.now();
const MINUTE = 60_000;

const prefix = uniqueId('vt');
const closers: Array<() => Promise<void> | void> = [];

let pool: pg.Pool;
let redis: Redis;

/** Built as the container builds its probe pool; `readOnly: false` only where a test sets things up. */
function makePool(connectionString: string, readOnly = true): pg.Pool {
  const p = createPool(connectionString, { name: 'vigil-test', max: 4, readOnly, onIdleError: () => undefined });
  closers.push(() => (p.ended ? undefined : p.end()));
  return p;
}

type Overrides = Partial<CommandDeps> & { redis?: Redis | null; httpTargets?: HttpTarget[] };

function dispatcherFor(overrides: Overrides = {}) {
  const r = overrides.redis === undefined ? redis : overrides.redis;
  const db = overrides.db === undefined ? pool : overrides.db;
  const queues = overrides.queues === undefined ? (r ? createQueueInspector({ redis: r, prefix }) : null) : overrides.queues;
  if (queues) closers.push(() => queues.close());
  const missing = overrides.missing ?? {};
  const thresholdsFor = overrides.thresholdsFor ?? relaxed;
  const now = (): number => NOW;
  const health = createHealthService({ db, redis: r, queues, thresholdsFor, httpTargets: overrides.httpTargets ?? [], timeoutMs: PROBE_TIMEOUT_MS, missing, now });
  const runs: CommandRun[] = [];
  const deps: CommandDeps = { health, db, queues, missing, thresholdsFor, now };
  const dispatcher = createDispatcher({ commands: bindCommands(commands, deps), onRun: (run) => runs.push(run) });
  return {
    runs,
    run: (slash: string, text = ''): Promise<DispatchResult> => dispatcher.dispatch(slash, text, invoker),
  };
}

function section(reply: Reply, heading: string): Section {
  const found = reply.sections?.find((s) => s.heading === heading);
  if (!found) throw new Error(`no section "${heading}" in ${JSON.stringify(reply.sections?.map((s) => s.heading))}`);
  return found;
}

function field(reply: Reply, heading: string, label: string): string | undefined {
  return section(reply, heading).fields?.find((f) => f.label === label)?.value;
}

function checksOf(reply: Reply): Map<string, EvaluatedReading> {
  return new Map((reply.data as HealthSnapshot).checks.map((c) => [c.name, c]));
}

/** A local HTTP server answering `status(path)` after `delayMs`, counting the requests it got. */
async function startTarget(status: (path: string) => number, delayMs = 0): Promise<{ base: string; port: number; hits: () => number }> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits += 1;
    setTimeout(() => res.writeHead(status(req.url ?? '/')).end(), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as AddressInfo).port;
  return { base: `http://127.0.0.1:${port}`, port, hits: () => hits };
}

beforeAll(async () => {
  pool = makePool(TEST_DATABASE_URL);
  redis = await connectProbeRedis(TEST_REDIS_URL, createLogger('silent'));
  closers.push(() => redis.disconnect());

  const emails = new Queue('emails', { connection: redis, prefix });
  const reports = new Queue('reports', { connection: redis, prefix });
  closers.push(() => emails.close(), () => reports.close());
  await emails.addBulk([
    { name: 'welcome', data: {}, opts: { timestamp: NOW - 10 * MINUTE } },
    { name: 'welcome', data: {}, opts: { timestamp: NOW - 2 * MINUTE } },
    { name: 'digest', data: {}, opts: { delay: 60_000 } },
  ]);
  await reports.add('monthly', {}, { timestamp: NOW - 3 * MINUTE });
});

afterAll(async () => {
  if (redis) await deleteKeysUnder(redis, prefix);
  for (const close of closers.reverse()) await close();
});

describe('/queue', () => {
  it('lists every queue under the prefix with counts by state and the oldest waiting job', async () => {
    const { run, runs } = dispatcherFor();
    const { reply, run: record } = await run('/queue');
    expect(record.outcome).toBe('ok');
    expect(runs).toHaveLength(1);
    expect(reply.title).toBe('Queues (2)');
    expect(reply.status).toBe('ok');
    const table = section(reply, 'By state').table;
    expect(table?.columns).toEqual(['queue', 'waiting', 'active', 'delayed', 'failed', 'paused', 'oldest waiting']);
    expect(table?.rows).toEqual([
      ['emails', '2', '0', '1', '0', 'no', '10m'],
      ['reports', '1', '0', '0', '0', 'no', '3m'],
    ]);
    expect(table?.rowStatus).toEqual(['ok', 'ok']);
    expect(reply.notes).toBeUndefined();
    expect(reply.suggestions).toBeUndefined();
    const data = reply.data as Array<EvaluatedReading>;
    expect(data.map((q) => [q.name, q.values.waiting, q.values.oldest_waiting_ms, q.status])).toEqual([
      ['emails', 2, 10 * MINUTE, 'ok'],
      ['reports', 1, 3 * MINUTE, 'ok'],
    ]);
  });

  it('works through the /vigil umbrella command too', async () => {
    const { run } = dispatcherFor();
    const { reply, run: record } = await run('/vigil', 'queue');
    expect(record.command).toBe('queue');
    expect(reply.title).toBe('Queues (2)');
  });

  it('shows one queue in detail', async () => {
    const { run } = dispatcherFor();
    const { reply, run: record } = await run('/queue', 'emails');
    expect(record.outcome).toBe('ok');
    expect(reply.title).toBe('Queue emails');
    expect(reply.status).toBe('ok');
    expect(section(reply, 'Counts').fields).toEqual([
      { label: 'Waiting', value: '2' },
      { label: 'Active', value: '0' },
      { label: 'Delayed', value: '1' },
      { label: 'Failed', value: '0' },
      { label: 'Completed (kept)', value: '0' },
      { label: 'Paused', value: 'no' },
      { label: 'Workers', value: '0' },
      { label: 'Oldest waiting', value: '10m' },
    ]);
    expect(reply.summary).toMatch(/Throughput unknown/);
    expect(reply.notes).toEqual(['Jobs are waiting and no worker is connected.']);
    expect(reply.data).toMatchObject({ name: 'emails', oldestWaitingAgeMs: 10 * MINUTE, status: 'ok', breaches: [] });
  });

  it('judges queues with the configured thresholds, in the overview, the detail and /health alike', async () => {
    // emails has 2 waiting; reports 1.
    const { run } = dispatcherFor({ thresholdsFor: (q) => (q === 'emails' ? { waiting: 2, failed: 1 } : relaxed()) });

    const overview = (await run('/queue')).reply;
    expect(overview.status).toBe('warn');
    expect(section(overview, 'By state').table?.rowStatus).toEqual(['warn', 'ok']);
    expect(overview.notes).toEqual(['emails: waiting 2 ≥ 2']);
    expect(overview.suggestions).toEqual([{ label: 'Inspect emails', command: '/queue emails' }]);

    const detail = (await run('/queue', 'emails')).reply;
    expect(detail.status).toBe('warn');
    expect(detail.notes).toEqual(['Needs attention: waiting 2 ≥ 2.', 'Jobs are waiting and no worker is connected.']);

    const health = (await run('/health')).reply;
    expect(health.status).toBe('warn');
    expect(health.title).toBe('Health: degraded');
    expect(checksOf(health).get('emails')).toMatchObject({
      kind: 'queue',
      status: 'warn',
      breaches: [{ measure: 'waiting', status: 'warn', reason: 'waiting 2 ≥ 2' }],
    });
    expect(section(health, 'Queues').table?.rows[0]?.[1]).toBe('2 waiting (oldest 10m) · 0 active · 0 failed · 1 delayed · waiting 2 ≥ 2');
    expect(health.suggestions).toEqual([{ label: 'Inspect emails', command: '/queue emails' }]);
  });

  it('answers an unknown queue with not_found, listing the known ones', async () => {
    const { run } = dispatcherFor();
    const { reply, run: record } = await run('/queue', 'nope');
    expect(reply.status).toBe('fail');
    expect(reply.summary).toBe('No BullMQ queue named "nope". Known queues: emails, reports.');
    expect(record.outcome).toBe('not_found');
    expect(record.error).toContain('nope');
  });

  it('rejects a queue name with a wildcard as bad arguments', async () => {
    const { run } = dispatcherFor();
    const { reply, run: record } = await run('/queue', 'em*');
    expect(record.outcome).toBe('bad_args');
    expect(reply.summary).toMatch(/wildcards/);
  });
});

describe('/health', () => {
  it('is ok with Postgres, Redis and one reading per queue, grouped under their headings', async () => {
    const { run } = dispatcherFor();
    const { reply, run: record } = await run('/health');
    expect(record.outcome).toBe('ok');
    const snapshot = reply.data as HealthSnapshot;
    expect(snapshot.checks.map((c) => [c.kind, c.name, c.status])).toEqual([
      ['postgres', 'Postgres', 'ok'],
      ['redis', 'Redis', 'ok'],
      ['queue', 'emails', 'ok'],
      ['queue', 'reports', 'ok'],
    ]);
    expect(snapshot.checks.find((c) => c.name === 'emails')?.values).toEqual({
      waiting: 2,
      prioritized: 0,
      active: 0,
      delayed: 1,
      failed: 0,
      completed: 0,
      paused: 0,
      oldest_waiting_ms: 10 * MINUTE,
    });
    expect(reply.status).toBe('ok');
    expect(reply.title).toBe('Health: healthy');
    expect(reply.summary).toMatch(/^All 4 checks passed in [\d.]+ ms\.$/);
    expect(reply.sections?.map((s) => s.heading)).toEqual(['Postgres', 'Redis', 'Queues']);
    expect(section(reply, 'Postgres').text).toMatch(/^[\d.]+ ms · PostgreSQL \d+[\d.]* · \d+\/\d+ connections \([\d.]+ ms\)$/);
    expect(section(reply, 'Queues').table?.rows.map((r) => [r[0], r[1]])).toEqual([
      ['emails', '2 waiting (oldest 10m) · 0 active · 0 failed · 1 delayed'],
      ['reports', '1 waiting (oldest 3m) · 0 active · 0 failed · 0 delayed'],
    ]);
    expect(reply.suggestions).toBeUndefined();
  });

  it("checks HTTP targets, and --verbose shows each target's details without its credentials", async () => {
    const target = await startTarget((path) => (path.startsWith('/down') ? 503 : 200));
    const base = `http://user:pw-secret@127.0.0.1:${target.port}`;
    // A target named like a queue stays an HTTP target: /health groups by kind, not by name.
    const httpTargets = [
      { name: 'queue mirror', url: `${base}/up?token=t0p`, timeoutMs: 500 },
      { name: 'billing', url: `${base}/down`, timeoutMs: 500 },
    ];
    const { run } = dispatcherFor({ httpTargets });

    const plain = await run('/health');
    expect(plain.reply.status).toBe('fail');
    expect(plain.reply.summary).toMatch(/^Needs attention: billing \(checked in/);
    const rows = section(plain.reply, 'HTTP targets').table?.rows ?? [];
    expect(rows.map((r) => r[0])).toEqual(['queue mirror', 'billing']);
    expect(rows[0]?.[1]).toMatch(/^HTTP 200 in [\d.]+ ms$/);
    expect(rows[1]?.[1]).toMatch(/^HTTP 503 in [\d.]+ ms · HTTP 503, expected 2xx$/);
    expect(section(plain.reply, 'HTTP targets').table?.rowStatus).toEqual(['ok', 'fail']);
    expect(section(plain.reply, 'Queues').table?.rows.map((r) => r[0])).toEqual(['emails', 'reports']);
    expect(plain.reply.sections?.some((s) => s.heading === 'billing')).toBe(false);

    const verbose = await run('/health', '--verbose');
    expect(section(verbose.reply, 'billing').fields).toContainEqual({ label: 'Status', value: '503 (expected 2xx)' });
    expect(field(verbose.reply, 'queue mirror', 'URL')).toBe(`http://user:***@127.0.0.1:${target.port}/up?…`);
    expect(JSON.stringify(verbose.reply)).not.toMatch(/pw-secret|t0p/);
  });

  it('runs one round of probes for concurrent callers (single flight), and a fresh one afterwards', async () => {
    const slow = await startTarget(() => 200, 300);
    const { run } = dispatcherFor({ httpTargets: [{ name: 'slow', url: `${slow.base}/`, timeoutMs: 900 }] });

    const replies = await Promise.all(Array.from({ length: 5 }, () => run('/health')));
    expect(slow.hits()).toBe(1);
    const snapshots = replies.map((r) => r.reply.data as HealthSnapshot);
    for (const s of snapshots) expect(s).toBe(snapshots[0]);
    expect(snapshots[0]?.checks.find((c) => c.name === 'slow')).toMatchObject({ kind: 'http', status: 'ok', values: { status: 200 } });

    await run('/health');
    expect(slow.hits()).toBe(2);
  });

  it('shows a missing database as a failing check with the reason', async () => {
    const { run } = dispatcherFor({ db: null, missing: { postgres: 'DATABASE_URL is not set' } });
    const { reply, run: record } = await run('/health');
    expect(record.outcome).toBe('ok');
    expect(reply.status).toBe('fail');
    expect(section(reply, 'Postgres')).toMatchObject({ status: 'fail', text: 'DATABASE_URL is not set (0 ms)' });
    expect(section(reply, 'Redis').status).toBe('ok');
    expect(reply.summary).toMatch(/^Needs attention: Postgres \(/);
  });

  it('reports Redis down at once, without waiting for the budget, while Postgres still passes', async () => {
    // Nothing listens on port 1: connecting is refused at once, and with no offline queue every
    // command fails instead of waiting for a connection.
    const dead = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 500, retryStrategy: () => null });
    dead.on('error', () => undefined);
    await dead.connect().catch(() => undefined);
    closers.push(() => dead.disconnect());

    const { run } = dispatcherFor({ redis: dead });
    const start = performance.now();
    const { reply, run: record } = await run('/health');
    expect(performance.now() - start).toBeLessThan(REPLY_WITHIN_MS);

    expect(record.outcome).toBe('ok');
    expect(reply.status).toBe('fail');
    expect(reply.title).toBe('Health: unhealthy');
    const checks = checksOf(reply);
    expect(checks.get('Postgres')?.status).toBe('ok');
    expect(checks.get('Redis')?.status).toBe('fail');
    // Refused, not timed out: the error names the refusal, and the budget did not run out.
    expect(checks.get('Redis')?.error).toMatch(/Connection is closed|Stream isn't writeable|ECONNREFUSED/);
    expect(checks.get('Redis')?.durationMs).toBeLessThan(PROBE_TIMEOUT_MS);
    expect(checks.get('BullMQ queues')).toMatchObject({ kind: 'queue', status: 'fail' });
    expect(reply.summary).toMatch(/^Needs attention: Redis, BullMQ queues/);
    expect(section(reply, 'Postgres').status).toBe('ok');
    expect(section(reply, 'Redis').status).toBe('fail');
    expect(section(reply, 'Queues').table?.rows.map((r) => r[0])).toEqual(['BullMQ queues']);
    // Nothing to inspect when the queues cannot even be listed.
    expect(reply.suggestions).toBeUndefined();
  });

  it('times out a Redis that stops answering, and still replies', async () => {
    // A proxy to the real Redis: the client connects and gets ready through it, then the proxy
    // swallows everything, as a hung Redis would.
    const target = new URL(TEST_REDIS_URL);
    const proxy = await startFreezableProxy({ host: target.hostname, port: Number(target.port || 6379) });
    closers.push(() => proxy.close());
    const hung = new Redis({ host: '127.0.0.1', port: proxy.port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
    hung.on('error', () => undefined);
    await hung.connect();
    expect(await hung.ping()).toBe('PONG');
    proxy.freeze();
    closers.push(() => hung.disconnect());

    const { run } = dispatcherFor({ redis: hung });
    const start = performance.now();
    const { reply } = await run('/health');
    const elapsed = performance.now() - start;

    // It waited for the budget (timers never fire early by more than a millisecond) and no longer
    // than it takes a loaded machine to notice.
    expect(elapsed).toBeGreaterThanOrEqual(PROBE_TIMEOUT_MS - 5);
    expect(elapsed).toBeLessThan(REPLY_WITHIN_MS);
    const checks = checksOf(reply);
    expect(checks.get('Postgres')?.status).toBe('ok');
    expect(checks.get('Redis')).toMatchObject({ status: 'fail', error: `Redis did not answer within ${PROBE_TIMEOUT_MS} ms` });
    expect(checks.get('BullMQ queues')).toMatchObject({ status: 'fail', error: `BullMQ queues did not answer within ${PROBE_TIMEOUT_MS} ms` });
    expect(reply.status).toBe('fail');
  });
});

describe('/slowqueries with pg_stat_statements', () => {
  let db: TestDatabase;
  let statsPool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase('vigil_stmts');
    await adminQuery('CREATE EXTENSION pg_stat_statements', db.name);
    statsPool = makePool(db.url);
    // Three statements with different shapes (constants are normalised, aliases are not part of
    // the query id) and known costs:
    //   s1: 1 call × 150 ms  → highest mean
    //   s2: 6 calls × 40 ms  → highest total
    //   s3: 30 fast calls    → most calls
    await statsPool.query('SELECT pg_sleep(0.15) AS vigil_s1');
    for (let i = 0; i < 6; i++) await statsPool.query('SELECT pg_sleep(0.04) AS vigil_s2, 2 AS two');
    for (let i = 0; i < 30; i++) await statsPool.query('SELECT count(*) AS vigil_s3 FROM generate_series(1, 100)');
    // The slowest statement of all, but in another database: never shown here.
    await pool.query('SELECT pg_sleep(0.2) AS vigil_other_db, 3 AS three');
  });

  afterAll(async () => {
    await statsPool?.end().catch(() => undefined);
    await db?.drop();
  });

  function ours(stats: StatementStat[]): string[] {
    return stats.flatMap((s) => /vigil_s\d/.exec(s.query)?.[0] ?? []);
  }

  it('shows the statements run in this database, by total time by default', async () => {
    const { run } = dispatcherFor({ db: statsPool });
    const { reply, run: record } = await run('/slowqueries', '--limit 50');
    expect(record.outcome).toBe('ok');
    expect(reply.title).toBe('Slow queries by total time');
    const stats = reply.data as StatementStat[];
    expect(ours(stats)).toEqual(['vigil_s2', 'vigil_s1', 'vigil_s3']);
    const totals = stats.map((s) => s.totalMs);
    expect(totals).toEqual([...totals].sort((a, b) => b - a));

    const s2 = stats.find((s) => s.query.includes('vigil_s2'));
    expect(s2?.calls).toBe(6);
    expect(s2?.meanMs).toBeGreaterThanOrEqual(40);
    expect(s2?.totalMs).toBeGreaterThanOrEqual(240);
    // Statements of other databases are not shown.
    expect(stats.some((s) => s.query.includes('vigil_other_db'))).toBe(false);
    const table = section(reply, 'Statements').table;
    expect(table?.rows).toHaveLength(stats.length);
    expect(table?.rows.some((r) => r[6]?.includes('vigil_s2'))).toBe(true);
  });

  it('orders by mean time', async () => {
    const { run } = dispatcherFor({ db: statsPool });
    const { reply } = await run('/slowqueries', '--by mean --limit 50');
    expect(reply.title).toBe('Slow queries by mean time');
    const stats = reply.data as StatementStat[];
    expect(ours(stats)).toEqual(['vigil_s1', 'vigil_s2', 'vigil_s3']);
    expect(stats.some((s) => s.query.includes('vigil_other_db'))).toBe(false);
    const means = stats.map((s) => s.meanMs);
    expect(means).toEqual([...means].sort((a, b) => b - a));
  });

  it('orders by calls', async () => {
    const { run } = dispatcherFor({ db: statsPool });
    const { reply } = await run('/slowqueries', '--by calls --limit 50');
    const stats = reply.data as StatementStat[];
    expect(ours(stats)).toEqual(['vigil_s3', 'vigil_s2', 'vigil_s1']);
    expect(stats.find((s) => s.query.includes('vigil_s3'))?.calls).toBe(30);
    const calls = stats.map((s) => s.calls);
    expect(calls).toEqual([...calls].sort((a, b) => b - a));
  });

  it('honours --limit', async () => {
    const { run } = dispatcherFor({ db: statsPool });
    const { reply } = await run('/slowqueries', '--limit 2');
    const stats = reply.data as StatementStat[];
    expect(stats).toHaveLength(2);
    expect(reply.summary).toBe('Top 2 statements in this database.');
  });

  it('filters by --min-ms on the mean time', async () => {
    const { run } = dispatcherFor({ db: statsPool });
    const { reply } = await run('/slowqueries', '--min-ms 100 --limit 50');
    const stats = reply.data as StatementStat[];
    expect(ours(stats)).toEqual(['vigil_s1']);
    expect(stats.every((s) => s.meanMs >= 100)).toBe(true);
    expect(reply.summary).toMatch(/mean ≥ 100 ms/);
  });

  it('says so when nothing matches the filters', async () => {
    const { run } = dispatcherFor({ db: statsPool });
    const { reply } = await run('/slowqueries', '--min-ms 60000');
    expect(reply.data).toEqual([]);
    expect(reply.summary).toBe('pg_stat_statements has no statements matching these filters.');
  });

  it('rejects a bad --by as bad arguments', async () => {
    const { run } = dispatcherFor({ db: statsPool });
    const { reply, run: record } = await run('/slowqueries', '--by slowest');
    expect(record.outcome).toBe('bad_args');
    expect(reply.summary).toMatch(/total, mean, calls/);
  });
});

describe('/slowqueries without pg_stat_statements', () => {
  let db: TestDatabase;
  let plainPool: pg.Pool;
  let sleeper: pg.Client;
  let sleeping: Promise<unknown>;

  beforeAll(async () => {
    db = await createTestDatabase('vigil_nostmts');
    plainPool = makePool(db.url);
    sleeper = new pg.Client({ connectionString: db.url, application_name: 'vigil-test-sleeper' });
    sleeper.on('error', () => undefined);
    await sleeper.connect();
    sleeping = sleeper.query('SELECT pg_sleep(60)').catch((err: unknown) => err);
  });

  afterAll(async () => {
    await plainPool?.query('SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', ['vigil-test-sleeper']).catch(() => undefined);
    await sleeping;
    await sleeper?.end().catch(() => undefined);
    await plainPool?.end().catch(() => undefined);
    await db?.drop();
  });

  it('falls back to long-running queries, with how to enable the extension', async () => {
    const sleeperPid = await waitFor(
      async () => {
        const { rows } = await plainPool.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query = 'SELECT pg_sleep(60)'",
        );
        return rows[0]?.pid;
      },
      { timeoutMs: 10_000, what: 'pg_sleep(60) to show in pg_stat_activity' },
    );

    const { run } = dispatcherFor({ db: plainPool });
    const { reply, run: record } = await run('/slowqueries', '--limit 50');
    expect(record.outcome).toBe('ok');
    expect(reply.status).toBe('warn');
    expect(reply.title).toBe('Slow queries: pg_stat_statements unavailable');
    expect(reply.summary).toMatch(/not installed in this database/);
    expect(reply.notes?.[0]).toBe('How to enable pg_stat_statements:');
    expect(reply.notes?.join('\n')).toContain('CREATE EXTENSION pg_stat_statements');

    const data = reply.data as { unavailable: StatementsUnavailable; active: ActivityRow[] };
    expect(data.unavailable.reason).toBe('extension_missing');
    const sleeperRow = data.active.find((a) => a.pid === sleeperPid);
    expect(sleeperRow).toMatchObject({ query: 'SELECT pg_sleep(60)', state: 'active', database: db.name });
    expect(sleeperRow?.runningSeconds).toBeGreaterThan(0);
    expect(sleeperRow?.waitEvent).toBe('Timeout:PgSleep');
    const rows = section(reply, 'Long-running queries (pg_stat_activity)').table?.rows ?? [];
    expect(rows.some((r) => r[0] === String(sleeperPid) && r[5] === 'SELECT pg_sleep(60)')).toBe(true);
  });
});

describe('a missing dependency', () => {
  it('answers /slowqueries with "Postgres is not available" when there is no database', async () => {
    const { run } = dispatcherFor({ db: null, missing: { postgres: 'DATABASE_URL is not set' } });
    const { reply, run: record } = await run('/slowqueries');
    expect(record.outcome).toBe('unavailable');
    expect(reply.status).toBe('fail');
    expect(reply.summary).toBe('Postgres is not available: DATABASE_URL is not set.');
    expect(record.error).toBe(reply.summary);
  });

  it('answers /queue with "Redis (BullMQ queues) is not available" when there is no Redis', async () => {
    const { run } = dispatcherFor({ redis: null, queues: null, missing: { redis: 'REDIS_URL is not set' } });
    const { reply, run: record } = await run('/queue');
    expect(record.outcome).toBe('unavailable');
    expect(reply.summary).toBe('Redis (BullMQ queues) is not available: REDIS_URL is not set.');
  });
});
