import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { startFaultProxy } from '../../support/fault-proxy.ts';
import pg from 'pg';
import type { DispatchResult } from '../../../src/core/dispatch.ts';
import type { Queryable } from '../../../src/db/queryable.ts';
import { createPool } from '../../../src/db/pools.ts';
import { createStateStore } from '../../../src/db/state.ts';
import { BUSY_MESSAGE } from '../../../src/probes/slow-query-runs.ts';
import { isVigilStatement, type ActivityRow, type StatementStat, type StatementsUnavailable } from '../../../src/probes/statements.ts';
import { renderJson, renderText } from '../../../src/render/text.ts';
import { renderBlocks } from '../../../src/slack/blocks.ts';
import { checksOf, commandHarness, section } from '../../support/command-harness.ts';
import { uniqueName } from '../../support/env.ts';
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
    db = await createTestDatabase('stmts');
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
  const SLEEPER_SECRET = `sl33p${randomBytes(4).toString('hex')}`;
  const SLEEPER_SQL = `SELECT pg_sleep(60), '${SLEEPER_SECRET}' AS token`;
  let db: TestDatabase;
  let plainPool: pg.Pool;
  let sleeper: pg.Client;
  let sleeping: Promise<unknown>;

  beforeAll(async () => {
    db = await createTestDatabase('nostmts');
    plainPool = makePool(db.url);
    sleeper = new pg.Client({ connectionString: db.url, application_name: 'vigil-test-sleeper' });
    sleeper.on('error', () => undefined);
    await sleeper.connect();
    sleeping = sleeper.query(SLEEPER_SQL).catch((err: unknown) => err);
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
          "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query = $1",
          [SLEEPER_SQL],
        );
        return rows[0]?.pid;
      },
      { timeoutMs: 10_000, what: 'the sleeper to show in pg_stat_activity' },
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
    // The literal in the running statement is masked: pg_stat_activity shows it as sent.
    const masked = "SELECT pg_sleep(60), '***' AS token";
    expect(sleeperRow).toMatchObject({ query: masked, state: 'active', database: db.name });
    expect(sleeperRow?.runningSeconds).toBeGreaterThan(0);
    expect(sleeperRow?.waitEvent).toBe('Timeout:PgSleep');
    const rows = section(reply, 'Long-running queries (pg_stat_activity)').table?.rows ?? [];
    expect(rows.some((r) => r[0] === String(sleeperPid) && r[5] === masked)).toBe(true);
    expect(everythingShown({ reply }, false)).not.toContain(SLEEPER_SECRET);
  });
});

/** Every text a reply becomes: Block Kit (blocks and notification text), terminal text, JSON. */
function everythingShown({ reply }: Pick<DispatchResult, 'reply'>, inChannel: boolean): string {
  const message = renderBlocks(reply, inChannel ? 'in_channel' : 'ephemeral');
  return [message.text, JSON.stringify(message.blocks), renderText(reply), renderJson(reply), JSON.stringify(reply)].join('\n');
}

/** The statements pg_stat_statements holds for `database`, read as the administrator. */
async function entryCount(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())',
  );
  return Number(rows[0]?.n);
}

describe('/slowqueries shows no secret and nothing of Vigil', () => {
  const role = uniqueName('pw');
  const secret = `pgS3cret${randomBytes(6).toString('hex')}`;
  let db: TestDatabase;
  let writer: pg.Pool;
  let reader: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase('stmts_mask');
    await adminQuery('CREATE EXTENSION pg_stat_statements', db.name);
    writer = makePool(db.url, false);
    reader = makePool(db.url);
    // A throwaway role: Postgres records the utility statement with its password literal.
    await writer.query(`CREATE ROLE ${role} NOLOGIN`);
    await writer.query(`ALTER ROLE ${role} PASSWORD '${secret}'`);
    // The application's statement outranks the ALTER ROLE (run up to 3 times) by calls, and Vigil's outrank both.
    for (let n = 0; n < 4; n++) await writer.query('SELECT $1::text AS app_q', ['x']);
    // Vigil's state may live in the database it inspects: twelve statements on the `vigil` schema
    // called more often than the application's, more than one round of ranking can skip at once.
    await writer.query('CREATE SCHEMA vigil');
    await writer.query(`CREATE TABLE vigil.own_t (${Array.from({ length: 12 }, (_, i) => `c${i} int`).join(', ')})`);
    await writer.query('INSERT INTO vigil.own_t DEFAULT VALUES');
    for (let i = 0; i < 12; i++) {
      for (let n = 0; n < 5; n++) await writer.query(`SELECT c${i} FROM vigil.own_t`);
    }
  });

  afterAll(async () => {
    await writer?.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    await writer?.end().catch(() => undefined);
    await reader?.end().catch(() => undefined);
    await db?.drop();
  });

  it('masks the password of ALTER ROLE in blocks, notification text, terminal text and JSON, --public too', async () => {
    const { run } = dispatcherFor({ db: reader });
    // Once more right before reading: in a full run other databases fill the server-wide
    // pg_stat_statements, which evicts the least-called entries (this one was called once).
    await writer.query(`ALTER ROLE ${role} PASSWORD '${secret}'`);
    const shown = await run('/slowqueries', '--by calls --limit 50');
    const stats = shown.reply.data as StatementStat[];
    const alter = stats.find((s) => s.query.startsWith(`ALTER ROLE ${role}`));
    expect(alter?.query, `rows shown: ${stats.map((s) => s.query.slice(0, 40)).join(' | ')}`).toBe(`ALTER ROLE ${role} PASSWORD '***'`);
    expect(section(shown.reply, 'Statements').table?.rows.some((r) => r[6] === `ALTER ROLE ${role} PASSWORD '***'`)).toBe(true);
    expect(everythingShown(shown, false)).not.toContain(secret);

    await writer.query(`ALTER ROLE ${role} PASSWORD '${secret}'`);
    const inChannel = await run('/slowqueries', '--by calls --limit 50 --public');
    expect(inChannel.reply.visibility).toBe('channel');
    expect((inChannel.reply.data as StatementStat[]).some((s) => s.query.startsWith(`ALTER ROLE ${role}`))).toBe(true);
    expect(everythingShown(inChannel, true)).not.toContain(secret);
  });

  it("leaves out statements on Vigil's schema and its own, however many outrank the application's", async () => {
    // A reader that has learnt nothing yet: the first ranked rows are all Vigil's.
    const { run } = dispatcherFor({ db: makePool(db.url) });
    const top = await run('/slowqueries', '--by calls --limit 1');
    const [first] = top.reply.data as StatementStat[];
    expect(first?.query).toContain('app_q');
    // More runs, so Vigil's own ranking statement has the most calls of all.
    for (let i = 0; i < 10; i++) await run('/slowqueries', '--by calls');

    for (const by of ['total', 'mean', 'calls']) {
      const { reply } = await run('/slowqueries', `--by ${by} --limit 50`);
      const stats = reply.data as StatementStat[];
      expect(stats.some((s) => s.query.includes('app_q'))).toBe(true);
      expect(stats.filter((s) => /vigil\s*\.|\/\* vigil/i.test(s.query)).map((s) => s.query)).toEqual([]);
    }
  });

  it('recognises Vigil statements by their marker or the vigil schema, not by lookalike names', () => {
    expect(isVigilStatement('/* vigil:slowqueries rank */ SELECT 1')).toBe(true);
    // PostgreSQL 18 drops a comment in front of a statement: the marker after the first keyword stays.
    expect(isVigilStatement('SELECT /* vigil:slowqueries rank */ 1')).toBe(true);
    expect(isVigilStatement('DO /* vigil:migrate 3_alerts */ $vigil_migration$***$vigil_migration$')).toBe(true);
    expect(isVigilStatement('SELECT 1 /* vigil */')).toBe(false);
    expect(isVigilStatement('SELECT /* vigilant */ 1')).toBe(false);
    expect(isVigilStatement('INSERT INTO vigil.audit_events (x) VALUES ($1)')).toBe(true);
    expect(isVigilStatement('SELECT * FROM "vigil"."message_refs"')).toBe(true);
    expect(isVigilStatement('SELECT * FROM myvigil.t, app.vigil_x')).toBe(false);
    expect(isVigilStatement("SELECT * FROM t WHERE name = '***'")).toBe(false);
  });
});

// `top` is pg_stat_statements' default; docker-compose.yml sets `all`, which also records the
// statements run inside a migration's DO block.
describe.each(['top', 'all'])("/slowqueries on a fresh database where Vigil keeps its state (pg_stat_statements.track = %s)", (track) => {
  let db: TestDatabase;
  let admin: pg.Pool;
  /** The entries Vigil's start-up added to pg_stat_statements: its migrations and their DDL. */
  let startup: Array<{ queryid: string; query: string }>;

  /** The queryids pg_stat_statements holds for this database, read as the administrator. */
  async function entries(): Promise<Array<{ queryid: string; query: string }>> {
    const { rows } = await admin.query<{ queryid: string; query: string }>(
      'SELECT queryid::text AS queryid, query FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())',
    );
    return rows;
  }

  beforeAll(async () => {
    db = await createTestDatabase('vigil_stmts_fresh');
    await adminQuery('CREATE EXTENSION pg_stat_statements', db.name);
    // For every connection opened from here on: the state pool's below.
    await adminQuery(`ALTER DATABASE ${db.name} SET pg_stat_statements.track = '${track}'`);
    admin = makePool(db.url, false);
    // The user's own statement, slower than any migration here.
    await admin.query('SELECT pg_sleep(0.1) AS user_slow');
    await entries(); // this read's own entry exists from here on
    const before = new Set((await entries()).map((e) => e.queryid));
    // As the bot starts: a writable state pool on the inspected database, migrated once by the
    // state store before anything is served.
    const statePool = createPool(db.url, { name: 'vigil-state', max: 10, onIdleError: () => undefined });
    h.defer(() => statePool.end());
    const state = createStateStore(statePool);
    expect((await state.ready()).kind).toBe('ready');
    startup = (await entries()).filter((e) => !before.has(e.queryid));
    // The state pool did migrate under the setting asked for (read after the snapshot above).
    const { rows } = await statePool.query<{ track: string }>('SELECT current_setting($1) AS track', ['pg_stat_statements.track']);
    expect(rows[0]?.track).toBe(track);
  });

  afterAll(() => db?.drop());

  it("shows the user's slow statement and none of Vigil's migration or DDL statements, in every order", async () => {
    // Not vacuous: the start-up did add its statements to the statistics.
    expect(startup.length).toBeGreaterThanOrEqual(5);
    const startupIds = new Set(startup.map((e) => e.queryid));
    const { run } = dispatcherFor({ db: makePool(db.url) });
    for (const by of ['total', 'mean', 'calls']) {
      for (const limit of [8, 50]) {
        // Again before each read: pg_stat_statements is server-wide (5000 entries by default) and the
        // suite's other databases fill it, evicting entries called once (this one, in a full CI run).
        await admin.query('SELECT pg_sleep(0.1) AS user_slow');
        const { reply, run: record } = await run('/slowqueries', `--by ${by} --limit ${limit}`);
        expect(record.outcome).toBe('ok');
        const stats = reply.data as StatementStat[];
        expect(stats.map((s) => `${s.calls} ${s.totalMs.toFixed(1)} ${s.query.slice(0, 60)}`), `--by ${by} --limit ${limit}`).toContainEqual(expect.stringContaining('user_slow'));
        expect(stats.filter((s) => startupIds.has(s.queryId)).map((s) => s.query.slice(0, 80))).toEqual([]);
        expect(stats.filter((s) => /\b(CREATE\s+(TABLE|INDEX|UNIQUE|SCHEMA|FUNCTION|TRIGGER)|ALTER\s+TABLE|DO)\b|schema_migrations|pg_advisory/i.test(s.query)).map((s) => s.query.slice(0, 80))).toEqual([]);
      }
    }
  });
});

describe('/slowqueries leaves no trace', () => {
  it('adds at most two entries to pg_stat_statements, however often and with whatever arguments it runs', async () => {
    const db = await createTestDatabase('stmts_trace');
    h.defer(() => db.drop());
    await adminQuery('CREATE EXTENSION pg_stat_statements', db.name);
    const admin = makePool(db.url, false);
    await entryCount(admin); // this count's own entry exists from here on
    const before = await entryCount(admin);
    const { run } = dispatcherFor({ db: makePool(db.url) });
    for (const by of ['total', 'mean', 'calls']) {
      for (const args of ['', '--limit 3', '--limit 50 --min-ms 5', '--min-ms 0.5']) {
        const { run: record } = await run('/slowqueries', `--by ${by} ${args}`);
        expect(record.outcome).toBe('ok');
      }
    }
    // One ranking statement and one text lookup, whatever the order or filters.
    expect((await entryCount(admin)) - before).toBeLessThanOrEqual(2);
  });
});

/** Postgres behind a proxy that delays every answer by `delayMs`: each query holds its connection that long. */
async function startSlowLink(delayMs: number): Promise<{ url: (database: string) => string; close: () => Promise<void> }> {
  const target = new URL(h.pool.options.connectionString ?? '');
  const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 5432) }, { delayMs });
  return {
    url: (database) => {
      const u = new URL(target);
      u.host = proxy.address;
      u.pathname = `/${database}`;
      return u.toString();
    },
    close: () => proxy.close(),
  };
}

describe('/slowqueries in a burst', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('stmts_burst');
    await adminQuery('CREATE EXTENSION pg_stat_statements', db.name);
    const writer = makePool(db.url, false);
    for (let i = 0; i < 20; i++) await writer.query(`SELECT ${i} AS burst_${i}`);
    await writer.end();
  });

  afterAll(() => db?.drop());

  it('200 identical requests share one run', async () => {
    const pool = makePool(db.url);
    let ranked = 0;
    // Counts the ranking statements reaching the real pool; everything else passes through.
    const counting: Queryable = {
      query: (text, values) => {
        if (text.includes('vigil:slowqueries rank')) ranked += 1;
        return pool.query(text, values);
      },
    };
    const { run } = dispatcherFor({ db: counting });
    const results = await Promise.all(Array.from({ length: 200 }, () => run('/slowqueries', '--by mean --limit 5')));
    expect(results.map((r) => r.run.outcome)).toEqual(Array(200).fill('ok'));
    expect(new Set(results.map((r) => r.reply.summary)).size).toBe(1);
    expect(ranked).toBe(1);
  });

  it('200 different requests on a slow link: each answers with results or "busy", never a pool error, and /health stays ok', async () => {
    const link = await startSlowLink(80);
    // As the container builds the probe pool: 10 connections, read-only, 1.5 s wait for one.
    const pool = createPool(link.url(db.name), { name: 'vigil-probes-burst', max: 10, readOnly: true, onIdleError: () => undefined });
    try {
      const { run } = dispatcherFor({ db: pool });
      const orders = ['total', 'mean', 'calls'];
      const burst = Array.from({ length: 200 }, (_, i) => run('/slowqueries', `--by ${orders[i % 3]} --limit ${1 + (i % 50)} --min-ms ${Math.floor(i / 50)}`));
      // /health while the burst holds what it is allowed to of the pool.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const health = await run('/health');
      const results = await Promise.all(burst);

      expect(checksOf(health.reply).get('Postgres')?.status).toBe('ok');
      const outcomes = new Map<string, number>();
      for (const r of results) outcomes.set(r.run.outcome, (outcomes.get(r.run.outcome) ?? 0) + 1);
      expect([...outcomes.keys()].filter((o) => o !== 'ok' && o !== 'unavailable')).toEqual([]);
      const busy = results.filter((r) => r.run.outcome === 'unavailable');
      expect(busy.map((r) => r.reply.summary).filter((s) => s !== BUSY_MESSAGE)).toEqual([]);
      expect(results.filter((r) => r.run.outcome === 'ok').length).toBeGreaterThan(0);
      expect(results.some((r) => JSON.stringify(r.reply).includes('timeout exceeded'))).toBe(false);
    } finally {
      await pool.end();
      await link.close();
    }
  });

  it('says "busy" when other users hold every connection of the pool', async () => {
    const pool = createPool(db.url, { name: 'vigil-probes-full', max: 2, readOnly: true, onIdleError: () => undefined });
    const held = [await pool.connect(), await pool.connect()];
    try {
      const { run } = dispatcherFor({ db: pool });
      const { reply, run: record } = await run('/slowqueries');
      expect(record.outcome).toBe('unavailable');
      expect(reply.summary).toBe(BUSY_MESSAGE);
    } finally {
      for (const c of held) c.release();
      await pool.end();
    }
  });
});
