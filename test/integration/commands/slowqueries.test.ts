import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { ActivityRow, StatementStat, StatementsUnavailable } from '../../../src/probes/statements.ts';
import { commandHarness, section } from '../../support/command-harness.ts';
import { adminQuery, createTestDatabase, type TestDatabase } from '../../support/pg.ts';
import { waitFor } from '../../support/wait.ts';

/** /slowqueries through the real dispatcher, each describe on a fresh database of its own. */
const h = commandHarness();
const { dispatcherFor, makePool } = h;

beforeAll(() => h.start());

afterAll(() => h.stop());

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
    await h.pool.query('SELECT pg_sleep(0.2) AS vigil_other_db, 3 AS three');
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
