import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Button } from '../../../src/core/reply.ts';
import type { DbOverview, LockSession } from '../../../src/probes/db-readings.ts';
import type { DbCheck } from '../../../src/probes/db-status.ts';
import { commandHarness, section } from '../../support/command-harness.ts';
import { vacuumTable } from '../../../src/actions/runners/vacuum.ts';
import { TEST_REDIS_URL, uniqueName } from '../../support/env.ts';
import { deleteKeysUnder } from '../../support/redis-keys.ts';
import { Redis } from 'ioredis';
import { createSizeHistory } from '../../../src/probes/db-size-history.ts';
import { adminQuery, createTestDatabase, type TestDatabase } from '../../support/pg.ts';
import { waitFor } from '../../support/wait.ts';

/**
 * /db through the real dispatcher on a database of its own, read by a `pg_monitor` role (what the
 * docs ask operators to give Vigil): the overview and the blocking tree, with real sessions
 * holding and waiting for a row lock.
 */
const h = commandHarness();
const { dispatcherFor, makePool } = h;
const monitor = uniqueName('mon');
let db: TestDatabase;
let reader: pg.Pool;
const clients: pg.Client[] = [];

async function session(name: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: db.url, application_name: name });
  await client.connect();
  client.on('error', () => undefined); // terminated on purpose below
  clients.push(client);
  return client;
}

/** A button the catalog would offer: what /db asks for, by builtin and parameters. */
const actionButton = (builtin: string, label: string, params: Record<string, string | number>): Button => ({ handler: 'actions.request', label, value: JSON.stringify({ builtin, params }) });

beforeAll(async () => {
  await h.start();
  db = await createTestDatabase('db_cmd');
  await adminQuery(`CREATE ROLE ${monitor} LOGIN; GRANT pg_monitor TO ${monitor}; CREATE TABLE accounts (id int PRIMARY KEY, note text); INSERT INTO accounts VALUES (1, 'a'), (2, 'b'); GRANT SELECT ON accounts TO ${monitor};`, db.name);
  const url = new URL(db.url);
  url.username = monitor;
  reader = makePool(url.toString());
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await h.stop();
  await db?.drop();
  await adminQuery(`DROP ROLE IF EXISTS ${monitor}`).catch(() => undefined);
});

describe('/db, read by a pg_monitor role', () => {
  it('shows connections, cache hit ratio, size and the longest transaction, without a permission error', async () => {
    const idle = await session('vigil-test-idle');
    await idle.query('BEGIN');
    await idle.query('SELECT count(*) FROM accounts');
    const idlePid = Number((await idle.query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
    const { run } = dispatcherFor({ db: reader });
    const { reply, run: ran } = await run('/db');
    expect(ran.outcome).toBe('ok');
    const { overview, checks } = reply.data as { overview: DbOverview; checks: DbCheck[] };
    expect(reply.title).toBe(`Database ${db.name}`);
    expect(overview.connections).toBeGreaterThanOrEqual(2);
    expect(overview.maxConnections).toBeGreaterThan(overview.connections);
    expect(overview.sizeBytes).toBeGreaterThan(1024 * 1024);
    expect(overview.cacheHitRatio).toBeGreaterThan(0);
    expect(overview.longestTransaction?.pid).toBe(idlePid);
    expect(overview.longestIdleInTransaction?.pid).toBe(idlePid);
    expect(overview.byState).toContainEqual({ state: 'idle in transaction', application: 'vigil-test-idle', count: 1 });
    expect(checks.map((c) => c.label)).toEqual(['Connections', 'Cache hit ratio', 'Size', 'Longest transaction', 'Idle in transaction', 'Deadlocks', 'Temp files', 'Autovacuum workers', 'Transaction ID age']);
    expect(section(reply, 'Readings').fields?.find((f) => f.label === 'Longest transaction')?.value).toContain(`pid ${idlePid}`);
    await idle.query('ROLLBACK');
  });

  it('says how much the database grew since the size it kept (an hour at most), in Vigil\'s own Redis keys', async () => {
    const redis = new Redis(TEST_REDIS_URL);
    const prefix = uniqueName('sizes');
    let now = Date.now();
    try {
      const { run } = dispatcherFor({ db: reader, sizeHistory: createSizeHistory(redis, prefix), now: () => now });
      const first = await run('/db');
      expect((first.reply.data as { growth: unknown }).growth).toBeNull();
      await adminQuery("CREATE TABLE growth (v text); INSERT INTO growth SELECT repeat('x', 1000) FROM generate_series(1, 2000);", db.name);
      now += 20 * 60_000;
      const second = await run('/db');
      const { growth } = second.reply.data as { growth: { bytes: number; seconds: number } };
      expect(growth.bytes).toBeGreaterThan(1_000_000);
      expect(growth.seconds).toBe(20 * 60);
      expect(section(second.reply, 'Readings').fields?.find((f) => f.label === 'Size')?.value).toMatch(/\(\+[\d.]+ MiB in the last 20m\)$/);
      expect(await redis.exists(`${prefix}:db-size:${db.name}`)).toBe(1);
    } finally {
      await adminQuery('DROP TABLE IF EXISTS growth', db.name);
      await deleteKeysUnder(redis, prefix);
      redis.disconnect();
    }
  });

  it('/db locks shows the blocker and the session waiting on it, with the waiting statement masked, and offers Terminate / Cancel for the blocker', async () => {
    const holder = await session('vigil-test-holder');
    const waiter = await session('vigil-test-waiter');
    await holder.query('BEGIN');
    await holder.query("UPDATE accounts SET note = 'held' WHERE id = 1");
    const holderPid = Number((await holder.query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
    const waiterPid = Number((await waiter.query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
    const waiting = waiter.query("UPDATE accounts SET note = 'card 4111-1111' WHERE id = 1");
    const { run } = dispatcherFor({ db: reader, actionButton });
    const none = await dispatcherFor({ db: reader }).run('/db', 'locks');
    expect(none.reply.status === 'ok' || none.reply.status === 'warn').toBe(true);
    await waitFor(async () => ((await run('/db', 'locks')).reply.data as LockSession[]).some((s) => s.pid === waiterPid), { timeoutMs: 5000, what: 'the waiting session' });

    const { reply } = await run('/db', 'locks');
    const sessions = reply.data as LockSession[];
    expect(reply.status).toBe('warn');
    expect(sessions.find((s) => s.pid === holderPid)).toMatchObject({ blockedBy: [], blocking: 1, application: 'vigil-test-holder' });
    const blocked = sessions.find((s) => s.pid === waiterPid);
    expect(blocked).toMatchObject({ blockedBy: [holderPid], blocking: 0, waitEvent: expect.stringMatching(/^Lock:/) });
    expect(blocked?.query).toBe("UPDATE accounts SET note = '***' WHERE id = 1");
    expect(JSON.stringify(reply)).not.toContain('4111');
    const rows = section(reply, 'Who blocks whom').table?.rows ?? [];
    expect(rows.map((r) => [r[0], r[1]])).toEqual(expect.arrayContaining([[String(holderPid), 'blocks 1'], [String(waiterPid), `waits for ${holderPid}`]]));
    expect(reply.buttons?.map((b) => [b.label, JSON.parse(b.value)])).toEqual([
      [`Terminate ${holderPid}`, { builtin: 'postgres.terminate', params: { pid: holderPid } }],
      [`Cancel ${holderPid}`, { builtin: 'postgres.cancel', params: { pid: holderPid } }],
    ]);

    // What Terminate would do once approved: the blocker goes, the waiting UPDATE completes.
    await adminQuery(`SELECT pg_terminate_backend(${holderPid})`, db.name);
    await expect(waiting).resolves.toMatchObject({ rowCount: 1 });
    expect((await run('/db', 'locks')).reply).toMatchObject({ status: 'ok', summary: 'No session waits for a lock another holds.' });
  });

  it('/db replication shows a slot and the WAL it keeps, as a primary without replicas', async () => {
    const slot = `vigil_test_${uniqueName('slot').replace(/[^a-z0-9_]/g, '_')}`.slice(0, 60);
    await adminQuery(`SELECT pg_create_physical_replication_slot('${slot}', true)`, db.name);
    try {
      const { reply, run: ran } = await dispatcherFor({ db: reader }).run('/db', 'replication');
      expect(ran.outcome).toBe('ok');
      const { replication } = reply.data as { replication: { inRecovery: boolean; replicas: unknown[]; slots: Array<{ name: string; active: boolean; retainedBytes: number | null }> } };
      expect(replication.inRecovery).toBe(false);
      expect(replication.replicas).toEqual([]);
      const mine = replication.slots.find((s) => s.name === slot);
      expect(mine).toMatchObject({ active: false });
      expect(mine?.retainedBytes).toBeGreaterThanOrEqual(0);
      expect(section(reply, 'Replicas and slots').fields?.find((f) => f.label === `Slot ${slot}`)?.value).toMatch(/^physical, inactive, keeps \d/);
    } finally {
      await adminQuery(`SELECT pg_drop_replication_slot('${slot}')`, db.name);
    }
  });

  it('/db tables shows the largest tables and flags one autovacuum is behind on; /db indexes the unused and duplicate ones', async () => {
    await adminQuery(
      `CREATE TABLE orders (id int PRIMARY KEY, customer int, note text);
       ALTER TABLE orders SET (autovacuum_enabled = false);
       INSERT INTO orders SELECT g, g % 100, 'x' FROM generate_series(1, 20000) g;
       DELETE FROM orders WHERE id <= 10000;
       CREATE INDEX orders_customer ON orders (customer);
       CREATE INDEX orders_customer_again ON orders (customer);
       CREATE UNIQUE INDEX orders_note_unique ON accounts (note);`,
      db.name,
    );
    const { run } = dispatcherFor({ db: reader });
    // Table statistics reach the views a moment after the transaction that made them.
    await waitFor(async () => ((await run('/db', 'tables')).reply.data as Array<{ name: string; deadRows: number }>).some((t) => t.name === 'public.orders' && t.deadRows === 10000), { timeoutMs: 10_000, what: 'the dead rows counted' });
    const tables = await run('/db', 'tables');
    expect(tables.reply.status).toBe('warn');
    expect(tables.reply.summary).toContain('public.orders: 50% dead row versions (VACUUM is behind)');
    expect(section(tables.reply, 'By total size (with indexes and TOAST)').table?.rows[0]?.[0]).toBe('public.orders');

    // A flagged table Vigil can name plainly is offered VACUUM (ANALYZE), as an action to ask for.
    const offered = (await dispatcherFor({ db: reader, actionButton }).run('/db', 'tables')).reply.buttons ?? [];
    expect(offered.map((b) => [b.label, JSON.parse(b.value)])).toEqual([['Vacuum public.orders', { builtin: 'postgres.vacuum', params: { table: 'public.orders' } }]]);
    // What the action does once approved: refused for a role that does not own the table (VACUUM
    // would only skip it), done for one that does.
    expect(await vacuumTable(reader, 'public.orders', 10_000)).toMatchObject({ ok: false, summary: expect.stringContaining(`the role Vigil uses (${monitor}) does not own public.orders`) });
    expect(await vacuumTable(reader, 'public.nosuch', 10_000)).toMatchObject({ ok: false, summary: 'No table public.nosuch in this database; nothing changed.' });
    const done = await vacuumTable(makePool(db.url), 'public.orders', 10_000);
    expect(done).toMatchObject({ ok: true, summary: expect.stringMatching(/^VACUUM \(ANALYZE\) public\.orders done in [\d.]+ s \(it had 10000 dead row versions\)\.$/) });
    await waitFor(async () => ((await run('/db', 'tables')).reply.data as Array<{ name: string; deadRows: number }>).some((t) => t.name === 'public.orders' && t.deadRows === 0), { timeoutMs: 10_000, what: 'the dead rows gone' });

    const indexes = await run('/db', 'indexes');
    const findings = (indexes.reply.data as Array<{ name: string; finding: string }>).map((f) => [f.name, f.finding]);
    expect(findings).toContainEqual(['public.orders_customer', 'unused']);
    expect(findings).toContainEqual(['public.orders_customer_again', 'duplicate of public.orders_customer']);
    // Enforcing a constraint is a use: never listed as unused.
    expect(findings.map(([name]) => name)).not.toContain('public.orders_note_unique');
    expect(findings.map(([name]) => name)).not.toContain('public.orders_pkey');
  });

  it('refuses a view it does not have, naming the ones it has', async () => {
    const { reply, run: ran } = await dispatcherFor({ db: reader }).run('/db', 'bloat');
    expect(ran.outcome).toBe('bad_args');
    expect(JSON.stringify(reply)).toContain('must be one of overview, locks, replication, tables, indexes');
  });
});
