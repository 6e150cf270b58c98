/**
 * Vigil pointed at the application's database through a read-only monitoring role (pg_monitor),
 * as a cautious DBA would set it up: commands work, and nothing is written to that database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type pg from 'pg';
import { loadConfig } from '../../src/config/load.ts';
import { createPool } from '../../src/db/pools.ts';
import { startVigil, type RunningVigil } from '../../src/vigil.ts';
import { TEST_PREFIX, TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { adminQuery, createTestDatabase, roleUrl, type TestDatabase } from '../support/pg.ts';

const role = uniqueName('monitor');
let inspected: TestDatabase;
let stateDb: TestDatabase;
let workDir: string;
const pools: pg.Pool[] = [];

function adminPool(db: TestDatabase): pg.Pool {
  const p = createPool(db.url, { name: 'vigil-test-admin', max: 1, onIdleError: () => undefined });
  pools.push(p);
  return p;
}

/** What a read-only role must never have left behind: any schema or table of its own. */
async function footprint(db: TestDatabase): Promise<{ schemas: string[]; tables: string[] }> {
  const admin = adminPool(db);
  const schemas = await admin.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1");
  const tables = await admin.query<{ t: string }>("SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1");
  return { schemas: schemas.rows.map((r) => r.nspname), tables: tables.rows.map((r) => r.t) };
}

async function start(env: Record<string, string>): Promise<{ vigil: RunningVigil; lines: string[]; logs: string[] }> {
  const lines: string[] = [];
  const logs: string[] = [];
  const config = loadConfig({ REDIS_URL: TEST_REDIS_URL, PORT: '0', VIGIL_CONFIG: 'vigil.yaml', PATH: process.env.PATH, ...env }, workDir);
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  const vigil = await startVigil({ config, log, announce: (line) => lines.push(line), embedded: false });
  return { vigil, lines, logs };
}

const asUser = { surface: 'cli' as const, userId: 'U_READONLY' };

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'vigil-ro-'));
  // Prefixes of its own (inspected queues, Vigil's own keys): what else sits in the machine's Redis is none of this test's business.
  await writeFile(join(workDir, 'vigil.yaml'), `bullmq:\n  prefix: ${uniqueName('ro')}\nstate:\n  queuePrefix: ${uniqueName('ro_own')}\n`);
  inspected = await createTestDatabase('app');
  stateDb = await createTestDatabase('own');
  // The application's database: its own extension (made by its administrator) and a monitoring role.
  await adminQuery('CREATE EXTENSION pg_stat_statements', inspected.name);
  await adminQuery(`CREATE ROLE ${role} LOGIN IN ROLE pg_monitor`);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await inspected?.drop();
  await stateDb?.drop();
  await adminQuery(`DROP ROLE IF EXISTS ${role}`);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('a read-only role on the inspected database', () => {
  it('with VIGIL_DATABASE_URL elsewhere: every command works, state goes there, the inspected database is untouched', async () => {
    const before = await footprint(inspected);
    const { vigil, lines } = await start({ DATABASE_URL: roleUrl(role, inspected.name), VIGIL_DATABASE_URL: stateDb.url });
    try {
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^State: schema vigil in VIGIL_DATABASE_URL postgres://.*/${TEST_PREFIX}_own_`)));
      for (const text of ['health', 'slowqueries', 'queue']) {
        const { run, reply } = await vigil.container.commands.dispatch('/vigil', text, asUser);
        expect([text, run.outcome, reply.summary ?? '']).toEqual([text, 'ok', expect.any(String)]);
      }
      const slow = await vigil.container.commands.dispatch('/slowqueries', '', asUser);
      expect(slow.reply.title).toBe('Slow queries by total time');
      await vigil.container.flushAudit();
    } finally {
      await vigil.stop();
    }
    expect(await footprint(inspected)).toEqual(before);
    const { rows } = await adminPool(stateDb).query<{ command: string }>("SELECT subject AS command FROM vigil.audit_events WHERE kind = 'command' AND actor_id = 'U_READONLY' ORDER BY id");
    expect(rows.map((r) => r.command)).toEqual(['health', 'slowqueries', 'queue', 'slowqueries']);
  });

  it('with nowhere writable: says once at start that the audit trail is off, and still answers', async () => {
    const before = await footprint(inspected);
    const { vigil, lines, logs } = await start({ DATABASE_URL: roleUrl(role, inspected.name) });
    try {
      const off = lines.filter((l) => l.startsWith('State: OFF'));
      expect(off).toHaveLength(1);
      expect(off[0]).toMatch(new RegExp(`permission denied for database ${TEST_PREFIX}_app_.*Set VIGIL_DATABASE_URL`));
      for (let i = 0; i < 3; i++) expect((await vigil.container.commands.dispatch('/health', '', asUser)).run.outcome).toBe('ok');
      await vigil.container.flushAudit();
    } finally {
      await vigil.stop();
    }
    expect(logs.filter((l) => /audit|permission denied/.test(l))).toEqual([]);
    expect(await footprint(inspected)).toEqual(before);
  });

  it('probes cannot write even as a superuser: the pool itself is read-only', async () => {
    const { vigil } = await start({ DATABASE_URL: inspected.url, VIGIL_DATABASE_URL: stateDb.url });
    try {
      const probeDb = vigil.container.infra.probeDb;
      if (!probeDb) throw new Error('no probe pool');
      await expect(probeDb.query('CREATE TABLE vigil_should_not_exist (id int)')).rejects.toMatchObject({ code: '25006' });
    } finally {
      await vigil.stop();
    }
  });
});
