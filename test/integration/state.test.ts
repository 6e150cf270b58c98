import { runNode } from '../support/run-process.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { recordAuditEvents } from '../../src/audit/chain.ts';
import { createPool } from '../../src/db/pools.ts';
import { readMigrations } from '../../src/db/migrate.ts';
import { createStateStore, describeState } from '../../src/db/state.ts';
import { uniqueName } from '../support/env.ts';
import { adminQuery, createTestDatabase, databaseUrl, roleUrl, type TestDatabase } from '../support/pg.ts';

/**
 * Vigil's state store against real roles: one that may only read (pg_monitor), and one that may
 * write rows but not create tables. Nothing here is faked; the server says what each may do.
 */
let db: TestDatabase;
const pools: pg.Pool[] = [];
const readOnlyRole = uniqueName('ro');
const writerRole = uniqueName('rw');

function pool(url: string): pg.Pool {
  const p = createPool(url, { name: 'vigil-test', max: 2, onIdleError: () => undefined });
  pools.push(p);
  return p;
}

beforeAll(async () => {
  db = await createTestDatabase('state');
  await adminQuery(`CREATE ROLE ${readOnlyRole} LOGIN IN ROLE pg_monitor`);
  await adminQuery(`CREATE ROLE ${writerRole} LOGIN`);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await db?.drop();
  await adminQuery(`DROP ROLE IF EXISTS ${readOnlyRole}`);
  await adminQuery(`DROP ROLE IF EXISTS ${writerRole}`);
});

describe('state store', () => {
  it('is off, saying why, for a role that may not create schema vigil, and creates nothing', async () => {
    const store = createStateStore(pool(roleUrl(readOnlyRole, db.name)));
    const status = await store.ready();
    expect(status.kind).toBe('off');
    expect(describeState(status, 'the inspected database')).toMatch(/^State: OFF, the audit trail is not kept: .*permission denied for database/);
    // Off is final: no retry storm against a role that will never be allowed.
    expect((await store.ready()).kind).toBe('off');
    const admin = pool(db.url);
    expect((await admin.query("SELECT nspname FROM pg_namespace WHERE nspname = 'vigil'")).rows).toEqual([]);
  });

  it('is ready for a role that may write rows but not create tables, once an administrator migrated', async () => {
    const admin = createStateStore(pool(db.url));
    expect((await admin.ready()).kind).toBe('ready');
    await adminQuery(`GRANT USAGE ON SCHEMA vigil TO ${writerRole}`, db.name);
    await adminQuery(`GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA vigil TO ${writerRole}`, db.name);

    const store = createStateStore(pool(roleUrl(writerRole, db.name)));
    const status = await store.ready();
    expect(status).toMatchObject({ kind: 'ready', applied: [] });
    if (status.kind !== 'ready') throw new Error('unreachable');
    // SELECT and INSERT are all the audit chain needs: ids come from the last row, not a sequence.
    await recordAuditEvents(status.pool, [{ actorId: 'u', kind: 'command', subject: 'health', outcome: 'ok' }]);
    expect((await status.pool.query('SELECT count(*)::int AS n FROM vigil.audit_events')).rows[0]).toEqual({ n: 1 });
  });

  it('is unreachable (and retried) while the database does not answer, and off without one', async () => {
    const gone = createStateStore(pool(databaseUrl(uniqueName('nodb'))));
    const status = await gone.ready();
    expect(status.kind).toBe('unreachable');
    expect(describeState(status, 'the inspected database')).toMatch(/did not answer \(.*does not exist\); the audit trail starts once it does/);
    expect((await createStateStore(null, 'DATABASE_URL is not set').ready())).toEqual({ kind: 'off', why: 'DATABASE_URL is not set' });
  });

  it('`vigil migrate` applies the migrations as an owner, once, so a role without DDL rights can start', async () => {
    const fresh = await createTestDatabase('migcli');
    try {
      const env = { VIGIL_DATABASE_URL: fresh.url, VIGIL_CONFIG: '' };
      const first = await runNode(['src/bin/vigil.mjs', 'migrate'], env);
      // Every file under src/db/migrations, in order (a new migration must not need this test edited).
      const versions = readMigrations().map((m) => m.version);
      expect(versions.slice(0, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect([first.code, first.stdout]).toEqual([0, expect.stringMatching(new RegExp(`^Applied migrations ${versions.join(', ')} to schema vigil in postgres://`))]);
      const again = await runNode(['src/bin/vigil.mjs', 'migrate'], env);
      expect([again.code, again.stdout]).toEqual([0, expect.stringMatching(/is up to date; nothing to apply\.\n$/)]);
      const none = await runNode(['src/bin/vigil.mjs', 'migrate'], { VIGIL_CONFIG: '' });
      expect(none.code).toBe(64);
      expect(none.stdout).toContain('set VIGIL_DATABASE_URL');
    } finally {
      await fresh.drop();
    }
  }, 40_000);
});
