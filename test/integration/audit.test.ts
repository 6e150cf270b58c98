/**
 * The audit trail against the real Postgres: the hash by a known answer, the chain as appended by
 * concurrent writers, the trigger that refuses changes, verification that names the exact row a
 * superuser tampered with in any hashed column,
 * one statement shape in pg_stat_statements, /audit over the real table, and `vigil audit` as a
 * process.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import auditCommand, { type AuditCommandDeps } from '../../commands/audit.ts';
import {
  appendAuditEvents,
  GENESIS_HASH,
  hashInput,
  hashRow,
  listAuditEvents,
  recordAuditEvents,
  toAuditRow,
  verifyAuditChain,
  type AuditEvent,
  type AuditRow,
} from '../../src/audit/chain.ts';
import { bindCommands } from '../../src/core/command.ts';
import { createDispatcher } from '../../src/core/dispatch.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pools.ts';
import { inTransaction } from '../../src/db/transaction.ts';
import { TEST_REDIS_URL } from '../support/env.ts';
import { adminQuery, createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { runNode } from '../support/run-process.ts';

const databases: TestDatabase[] = [];
const pools: pg.Pool[] = [];

function makePool(url: string, max = 4): pg.Pool {
  const pool = createPool(url, { name: 'vigil-test-audit', max, onIdleError: () => undefined });
  pools.push(pool);
  return pool;
}

/** A database of its own with Vigil's schema migrated, and a pool on it. */
async function migratedDatabase(): Promise<{ db: TestDatabase; pool: pg.Pool }> {
  const db = await createTestDatabase('audit');
  databases.push(db);
  const pool = makePool(db.url);
  await migrate(pool);
  return { db, pool };
}

function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return { actorId: 'U1', actorName: 'alice', channel: 'C1', kind: 'command', subject: 'health', outcome: 'ok', details: { args: '' }, ...overrides };
}

async function allRows(pool: pg.Pool): Promise<AuditRow[]> {
  const { rows } = await pool.query('SELECT * FROM vigil.audit_events ORDER BY id');
  return rows.map((r) => toAuditRow(r as Record<string, unknown>));
}

/** What only a superuser can do: change a row with the append-only trigger switched off for a moment. */
async function tamper(db: TestDatabase, statement: string): Promise<void> {
  await adminQuery(
    `BEGIN;
     ALTER TABLE vigil.audit_events DISABLE TRIGGER audit_events_append_only;
     ${statement};
     ALTER TABLE vigil.audit_events ENABLE TRIGGER audit_events_append_only;
     COMMIT;`,
    db.name,
  );
}

/** Put the whole table back as `rows` were, as a superuser (trigger off), so each tamper case starts from an intact chain. */
async function restoreRows(db: TestDatabase, rows: readonly AuditRow[]): Promise<void> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('ALTER TABLE vigil.audit_events DISABLE TRIGGER audit_events_append_only');
    await client.query('DELETE FROM vigil.audit_events');
    for (const o of rows) await insertRow(client, o);
    await client.query('ALTER TABLE vigil.audit_events ENABLE TRIGGER audit_events_append_only');
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

/** INSERT is what the trigger allows: a row exactly as given, hash included. */
async function insertRow(db: pg.Pool | pg.Client, o: AuditRow): Promise<void> {
  await db.query(
    'INSERT INTO vigil.audit_events (id, at, actor_id, actor_name, channel, kind, subject, request_id, outcome, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
    [o.id, o.at.toISOString(), o.actorId, o.actorName, o.channel, o.kind, o.subject, o.requestId, o.outcome, JSON.stringify(o.details), o.prevHash, o.hash],
  );
}

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  await Promise.all(databases.map((d) => d.drop()));
});

/**
 * The hash pinned by a known answer, so a change to what is hashed (a column left out, reordered,
 * formatted differently) fails here even when appending and verifying change together. The
 * expected texts are the canonical form documented in src/audit/chain.ts, written out by hand; the
 * expected hashes were computed once outside Vigil, with coreutils:
 *   printf '%s' '<text>' | sha256sum
 */
describe('the audit hash, by a known answer', () => {
  const first: AuditRow = {
    id: 1,
    at: new Date('2024-05-01T12:34:56.789Z'),
    actorId: 'U0ALICE',
    actorName: 'alice',
    channel: 'C0OPS',
    kind: 'action.approve',
    subject: 'restart',
    requestId: 'req-42',
    outcome: 'approved',
    // Keys deliberately out of order: the canonical form sorts them at every depth.
    details: { b: 1, a: { d: 'é', c: [2, 1] } },
    prevHash: GENESIS_HASH,
    keyed: false,
    hash: 'bf1d6dc37f1d0aadeb11c69b2e7b0b193326f537b51645dbc415a25073cc7ee7',
  };
  const second: AuditRow = {
    id: 2,
    at: new Date('2024-05-01T12:34:57.000Z'),
    actorId: 'vigil',
    actorName: null,
    channel: null,
    kind: 'action.start',
    subject: 'restart',
    requestId: null,
    outcome: 'running',
    details: {},
    prevHash: first.hash,
    keyed: false,
    hash: '9037452a55d725edfb647ff607cbbfe08629948d0b97c781fe03875c3e089575',
  };
  const FIRST_TEXT = `["vigil-audit/1","1","2024-05-01T12:34:56.789Z","U0ALICE","alice","C0OPS","action.approve","restart","req-42","approved",{"a":{"c":[2,1],"d":"é"},"b":1},"${GENESIS_HASH}"]`;
  const SECOND_TEXT = `["vigil-audit/1","2","2024-05-01T12:34:57.000Z","vigil",null,null,"action.start","restart",null,"running",{},"${first.hash}"]`;
  const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

  it('hashes the documented canonical text of every column to the known hash', () => {
    // The written-out answers agree with each other (a typo in either would show here)…
    expect(sha256(FIRST_TEXT)).toBe(first.hash);
    expect(sha256(SECOND_TEXT)).toBe(second.hash);
    // …and with the chain's code.
    expect(hashInput(first)).toBe(FIRST_TEXT);
    expect(hashRow(first)).toBe(first.hash);
    expect(hashInput(second)).toBe(SECOND_TEXT);
    expect(hashRow(second)).toBe(second.hash);
  });

  it('verifies rows stored with the known hashes, as `vigil audit verify` reads them back', async () => {
    const { pool } = await migratedDatabase();
    await insertRow(pool, first);
    await insertRow(pool, second);
    expect(await verifyAuditChain(pool)).toEqual({ ok: true, checked: 2, head: { id: 2, hash: second.hash }, keyedFrom: null });
  });
});

describe('appending to the chain', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => ({ db, pool } = await migratedDatabase()));

  it('starts from the genesis hash and links every row of a batch to the one before', async () => {
    await recordAuditEvents(pool, [event()]);
    await recordAuditEvents(pool, Array.from({ length: 7 }, (_, i) => event({ subject: `batch-${i}`, details: { i } })));
    const rows = await allRows(pool);
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rows[0]).toMatchObject({ actorId: 'U1', actorName: 'alice', channel: 'C1', kind: 'command', subject: 'health', requestId: null, outcome: 'ok', prevHash: GENESIS_HASH });
    rows.forEach((row, i) => {
      expect(row.hash).toBe(hashRow(row));
      if (i > 0) expect(row.prevHash).toBe(rows[i - 1]?.hash);
      if (i > 0) expect(row.at.getTime()).toBeGreaterThanOrEqual(rows[i - 1]?.at.getTime() ?? 0);
    });
    // A batch is one transaction: one time for all its rows.
    expect(new Set(rows.slice(1).map((r) => r.at.getTime())).size).toBe(1);
    expect(await verifyAuditChain(pool)).toEqual({ ok: true, checked: 8, head: { id: 8, hash: rows[7]?.hash }, keyedFrom: null });
  });

  it('hashes details whatever their key order, and stores odd characters instead of losing the batch', async () => {
    await recordAuditEvents(pool, [
      event({ subject: 'order-a', details: { b: 1, a: { y: [1, { d: 2, c: 3 }], x: 'é' } } }),
      event({ subject: 'nul\0', actorName: 'lone \ud800 surrogate', details: { text: 'a\0b', big: 1e21, fraction: 0.1 + 0.2, nothing: undefined } }),
    ]);
    const [a, odd] = (await allRows(pool)).slice(-2);
    expect(a?.details).toEqual({ b: 1, a: { y: [1, { d: 2, c: 3 }], x: 'é' } });
    expect(odd).toMatchObject({ subject: 'nul\ufffd', actorName: 'lone \ufffd surrogate', details: { text: 'a\ufffdb', big: 1e21, fraction: 0.30000000000000004 } });
    expect((await verifyAuditChain(pool)).ok).toBe(true);
  });

  it('commits with the caller’s transaction: a rolled-back change leaves no row and no gap', async () => {
    const before = (await allRows(pool)).length;
    await expect(
      inTransaction(pool, async (client) => {
        await appendAuditEvents(client, [event({ subject: 'rolled-back' })]);
        throw new Error('the state change failed');
      }),
    ).rejects.toThrow('the state change failed');
    await inTransaction(pool, (client) => appendAuditEvents(client, [event({ subject: 'kept' })]));
    const rows = await allRows(pool);
    expect(rows.map((r) => r.subject)).not.toContain('rolled-back');
    expect(rows.at(-1)).toMatchObject({ id: before + 1, subject: 'kept' });
    expect((await verifyAuditChain(pool)).ok).toBe(true);
  });

  it('stays one line when two replicas (two pools) append at once', async () => {
    const replicas = [makePool(db.url, 5), makePool(db.url, 5)];
    const before = (await allRows(pool)).length;
    const sizes = [1, 3, 1, 7, 2, 1, 5, 1, 4, 1];
    await Promise.all(
      replicas.flatMap((replica, r) => sizes.map((size, i) => recordAuditEvents(replica, Array.from({ length: size }, (_, j) => event({ actorId: `R${r}`, subject: `c${i}-${j}` }))))),
    );
    const total = 2 * sizes.reduce((a, b) => a + b, 0);
    const rows = await allRows(pool);
    expect(rows).toHaveLength(before + total);
    expect(rows.map((r) => r.id)).toEqual(rows.map((_, i) => i + 1));
    expect(new Set(rows.map((r) => r.prevHash)).size).toBe(rows.length);
    expect(await verifyAuditChain(pool)).toMatchObject({ ok: true, checked: before + total });
    // Each batch stayed together, in order.
    for (const r of ['R0', 'R1']) {
      const mine = rows.filter((row) => row.actorId === r).map((row) => row.subject);
      expect(mine.sort()).toEqual(sizes.flatMap((size, i) => Array.from({ length: size }, (_, j) => `c${i}-${j}`)).sort());
    }
  });

  it('refuses UPDATE, DELETE and TRUNCATE with the trigger’s message, even to a superuser', async () => {
    await expect(pool.query("UPDATE vigil.audit_events SET outcome = 'denied' WHERE id = 1")).rejects.toThrow('vigil.audit_events is append-only: UPDATE refused');
    await expect(pool.query('DELETE FROM vigil.audit_events WHERE id = 1')).rejects.toThrow('vigil.audit_events is append-only: DELETE refused');
    await expect(pool.query('TRUNCATE vigil.audit_events')).rejects.toThrow('vigil.audit_events is append-only: TRUNCATE refused');
    expect((await allRows(pool))[0]?.outcome).toBe('ok');
  });
});

describe('verifyAuditChain()', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let original: AuditRow[];
  beforeAll(async () => {
    ({ db, pool } = await migratedDatabase());
    for (let i = 0; i < 4; i++) await recordAuditEvents(pool, Array.from({ length: 3 }, (_, j) => event({ subject: `e${i}.${j}`, details: { n: i * 3 + j } })));
    original = await allRows(pool);
  });

  it('passes over every page', async () => {
    expect(await verifyAuditChain(pool)).toMatchObject({ ok: true, checked: 12 });
    expect(await verifyAuditChain(pool, { pageSize: 5 })).toMatchObject({ ok: true, checked: 12 });
  });

  const hashMismatch = { ok: false, checked: 6, brokenId: 7, reason: 'hash mismatch: the row was changed after it was written' };
  // One case per column of the hash input (hashInput in src/audit/chain.ts): leaving any of them
  // out of the hash makes its case pass verification, and fail here.
  it.each([
    ['the id (moved to the end)', 'UPDATE vigil.audit_events SET id = 13 WHERE id = 7', { ok: false, checked: 6, brokenId: 8, reason: 'id gap: expected id 7 next, found 8 (rows deleted?)' }],
    ['the time by a millisecond', "UPDATE vigil.audit_events SET at = at + interval '1 millisecond' WHERE id = 7", hashMismatch],
    ['the actor', "UPDATE vigil.audit_events SET actor_id = 'U2' WHERE id = 7", hashMismatch],
    ['the actor’s name', "UPDATE vigil.audit_events SET actor_name = 'mallory' WHERE id = 7", hashMismatch],
    ['the channel', "UPDATE vigil.audit_events SET channel = 'C666' WHERE id = 7", hashMismatch],
    ['the kind', "UPDATE vigil.audit_events SET kind = 'action.approve' WHERE id = 7", hashMismatch],
    ['the subject', "UPDATE vigil.audit_events SET subject = 'restart' WHERE id = 7", hashMismatch],
    ['the request id', "UPDATE vigil.audit_events SET request_id = 'r-forged' WHERE id = 7", hashMismatch],
    ['the outcome', "UPDATE vigil.audit_events SET outcome = 'denied' WHERE id = 7", hashMismatch],
    ['a detail', `UPDATE vigil.audit_events SET details = jsonb_set(details, '{n}', '99') WHERE id = 7`, hashMismatch],
    ['the previous hash', `UPDATE vigil.audit_events SET prev_hash = repeat('f', 64) WHERE id = 7`, { ok: false, checked: 6, brokenId: 7, reason: 'prev_hash does not match the hash of row 6' }],
  ])('names the row when a superuser changes %s, at any page size', async (_what, update, expected) => {
    await tamper(db, update);
    for (const pageSize of [1000, 6, 7, 1]) expect(await verifyAuditChain(pool, { pageSize })).toEqual(expected);
    // Put it back exactly as it was: the chain checks out again.
    await restoreRows(db, original);
    expect(await verifyAuditChain(pool)).toMatchObject({ ok: true, checked: 12 });
  });

  it('names the next row when a row is rewritten with a fresh hash (its successor no longer links)', async () => {
    const o = original[4] as AuditRow;
    const forged = hashRow({ ...o, outcome: 'denied' });
    await tamper(db, `UPDATE vigil.audit_events SET outcome = 'denied', hash = '${forged}' WHERE id = 5`);
    expect(await verifyAuditChain(pool)).toEqual({ ok: false, checked: 5, brokenId: 6, reason: 'prev_hash does not match the hash of row 5' });
    // Relinking the successor too does not help: prev_hash is part of what its hash covers.
    await tamper(db, `UPDATE vigil.audit_events SET prev_hash = '${forged}' WHERE id = 6`);
    expect(await verifyAuditChain(pool)).toEqual({ ok: false, checked: 5, brokenId: 6, reason: 'hash mismatch: the row was changed after it was written' });
    await tamper(db, `UPDATE vigil.audit_events SET outcome = '${o.outcome}', hash = '${o.hash}' WHERE id = 5; UPDATE vigil.audit_events SET prev_hash = '${o.hash}' WHERE id = 6`);
    expect((await verifyAuditChain(pool)).ok).toBe(true);
  });

  it('names the row after a deleted one, and a deleted first row', async () => {
    await tamper(db, 'DELETE FROM vigil.audit_events WHERE id = 9');
    expect(await verifyAuditChain(pool, { pageSize: 4 })).toEqual({ ok: false, checked: 8, brokenId: 10, reason: 'id gap: expected id 9 next, found 10 (rows deleted?)' });
    await tamper(db, 'DELETE FROM vigil.audit_events WHERE id = 1');
    expect(await verifyAuditChain(pool)).toEqual({ ok: false, checked: 0, brokenId: 2, reason: 'id gap: expected id 1 next, found 2 (rows deleted?)' });
    // Re-inserting the very rows (INSERT is allowed) makes the chain whole again.
    for (const id of [1, 9]) await insertRow(pool, original[id - 1] as AuditRow);
    expect(await verifyAuditChain(pool)).toMatchObject({ ok: true, checked: 12 });
  });

  it('a row appended around the chain cannot fork it: its predecessor is already taken', async () => {
    const o = original[3] as AuditRow;
    await expect(
      pool.query(
        "INSERT INTO vigil.audit_events (id, at, actor_id, kind, subject, outcome, prev_hash, hash) VALUES (100, now()::timestamp(3), 'x', 'command', 'forged', 'ok', $1, $1)",
        [o.prevHash],
      ),
    ).rejects.toThrow(/audit_events_prev_hash_key/);
  });
});

describe('one statement shape in pg_stat_statements', () => {
  it('batches of 1, 7 and 50 are one normalized INSERT', async () => {
    const { db, pool } = await migratedDatabase();
    await adminQuery('CREATE EXTENSION IF NOT EXISTS pg_stat_statements', db.name);
    for (const size of [1, 7, 50]) await recordAuditEvents(pool, Array.from({ length: size }, (_, i) => event({ subject: `s${size}-${i}` })));
    const { rows } = await pool.query<{ query: string; calls: string; rows: string }>(
      `SELECT query, calls, rows FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query ILIKE 'INSERT INTO vigil.audit_events%'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ calls: '3', rows: '58' });
    expect(rows[0]?.query).toContain('unnest($1::bigint[]');
  });
});

describe('/audit', () => {
  let pool: pg.Pool;
  const now = Date.now();
  beforeAll(async () => {
    ({ pool } = await migratedDatabase());
    await recordAuditEvents(pool, [
      event({ actorId: 'U1', actorName: 'alice', kind: 'command', subject: 'health' }),
      event({ actorId: 'U2', actorName: 'bob', kind: 'action.request', subject: 'restart', requestId: 'r1', outcome: 'requested' }),
      event({ actorId: 'U1', actorName: 'alice', kind: 'action.approve', subject: 'restart', requestId: 'r1', outcome: 'refused:self' }),
      event({ actorId: 'vigil', kind: 'action.start', subject: 'restart', requestId: 'r1', outcome: 'running' }),
      event({ actorId: 'U3', actorName: 'carol', kind: 'alert.ack', subject: 'g1', outcome: 'acknowledged' }),
      event({ actorId: 'root', actorName: 'root', kind: 'command', subject: 'action_x', outcome: 'ok' }),
    ]);
  });

  const dispatcher = () => {
    const deps: AuditCommandDeps = { audit: { recent: (filter, limit) => listAuditEvents(pool, filter, { limit, order: 'newest' }) }, missing: undefined, now: () => now };
    return createDispatcher({ commands: bindCommands([auditCommand], deps) });
  };
  const subjects = async (text: string) => {
    const { reply, run } = await dispatcher().dispatch('/audit', text, { surface: 'slack', userId: 'U9' });
    expect(run.outcome).toBe('ok');
    return reply.sections?.[0]?.table?.rows.map((r) => `${r[2]}:${r[3]}`) ?? [];
  };

  it('shows the newest events first, as time, actor, kind, subject, outcome', async () => {
    const { reply } = await dispatcher().dispatch('/audit', '', { surface: 'slack', userId: 'U9' });
    expect(reply.sections?.[0]?.table?.columns).toEqual(['time', 'actor', 'kind', 'subject', 'outcome']);
    expect(reply.sections?.[0]?.table?.rows[0]).toEqual([expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/), 'root', 'command', 'action_x', 'ok']);
    expect(reply.sections?.[0]?.table?.rows[1]?.slice(1)).toEqual(['carol (U3)', 'alert.ack', 'g1', 'acknowledged']);
    expect(reply.sections?.[0]?.table?.rowStatus?.[3]).toBe('warn');
  });

  it('filters by kind, kind family or subject; by mention, id or name; by time; and caps the rows', async () => {
    expect(await subjects('--action restart')).toEqual(['action.start:restart', 'action.approve:restart', 'action.request:restart']);
    expect(await subjects('--action action')).toEqual(['action.start:restart', 'action.approve:restart', 'action.request:restart']);
    expect(await subjects('--action command')).toEqual(['command:action_x', 'command:health']);
    // `_` is a LIKE wildcard: `action_x` matches that subject, not every `action?x.…` kind.
    expect(await subjects('--action action_x')).toEqual(['command:action_x']);
    expect(await subjects('--user @U1')).toEqual(['action.approve:restart', 'command:health']);
    expect(await subjects('--user @bob')).toEqual(['action.request:restart']);
    expect(await subjects('--user U3 --action alert.ack')).toEqual(['alert.ack:g1']);
    expect(await subjects('--since 24h --limit 2')).toEqual(['command:action_x', 'alert.ack:g1']);
    const { reply } = await dispatcher().dispatch('/audit', '--limit 2', { surface: 'slack', userId: 'U9' });
    expect(reply.notes?.[0]).toMatch(/Only the newest 2 are shown/);
  });

  it('finds nothing before the window, and refuses bad arguments', async () => {
    const later = createDispatcher({
      commands: bindCommands([auditCommand], { audit: { recent: (f, l) => listAuditEvents(pool, f, { limit: l, order: 'newest' }) }, missing: undefined, now: () => now + 3 * 3_600_000 }),
    });
    expect((await later.dispatch('/audit', '--since 1h', { surface: 'slack', userId: 'U9' })).reply.summary).toBe('No audit events in the last 1h.');
    for (const [text, message] of [
      ['--since 5x', '--since: must be a number and a unit: 30m, 24h, 7d, 2w'],
      ['--limit 500', '--limit: must be at most 50'],
      ["--user '<script>'", '--user: must be a mention like @alice or a user id like U123'],
      ["--action 'x; drop'", '--action: must be an event kind'],
    ]) {
      const { run } = await dispatcher().dispatch('/audit', text as string, { surface: 'slack', userId: 'U9' });
      expect([run.outcome, run.error]).toEqual(['bad_args', expect.stringContaining(message as string)]);
    }
  });

  it('says why when the state database is not there', async () => {
    const off = createDispatcher({ commands: bindCommands([auditCommand], { audit: null, missing: 'no database', now: Date.now }) });
    const { reply, run } = await off.dispatch('/audit', '', { surface: 'slack', userId: 'U9' });
    expect(run.outcome).toBe('unavailable');
    expect(reply.summary).toBe("Vigil's state database (audit trail) is not available: no database.");
  });
});

/** `npx vigil …` as a person runs it, with only the env given (plus PATH). */
const vigil = (args: string[], env: Record<string, string>) => runNode(['src/bin/vigil.mjs', ...args], env);

/** RFC 4180 reader, enough to check what the export wrote. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') record.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      (record = []), (field = ''), i++;
    } else field += c;
  }
  return records;
}

describe('npx vigil audit', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let env: Record<string, string>;
  beforeAll(async () => {
    ({ db, pool } = await migratedDatabase());
    env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL };
    await recordAuditEvents(pool, [
      event(),
      event({ actorName: 'o"brien, jr', subject: 'restart', kind: 'action.request', requestId: 'r1', outcome: 'requested', details: { reason: 'deploy broke\nline two, "quoted"' } }),
      event({ subject: 'queue' }),
      event({ subject: 'slowqueries' }),
    ]);
  });

  it('verify exits 0 on an intact chain, then 2 naming the row a superuser changed', async () => {
    const ok = await vigil(['audit', 'verify'], env);
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    expect(ok.stdout).toMatch(/^audit chain ok: 4 events, not keyed: set VIGIL_AUDIT_KEY so rows cannot be forged\nhead: id 4, hash [0-9a-f]{64}\nno anchor at \S+: the end of the chain is not checked/);
    // The verify run is itself in the trail.
    const last = (await allRows(pool)).at(-1);
    expect(last).toMatchObject({ id: 5, kind: 'command', subject: 'audit', outcome: 'ok', details: { args: 'verify', surface: 'cli' } });

    await tamper(db, "UPDATE vigil.audit_events SET outcome = 'approved' WHERE id = 3");
    const broken = await vigil(['audit', 'verify'], env);
    expect(broken.code).toBe(2);
    expect(broken.stdout).toMatch(/^audit chain broken at id 3: hash mismatch/);
    expect((await allRows(pool)).at(-1)).toMatchObject({ id: 6, subject: 'audit', outcome: 'chain_broken' });
  });

  it('export --format csv writes every column, quoted where needed; json is one array', async () => {
    const csv = await vigil(['audit', 'export', '--format', 'csv'], env);
    expect([csv.code, csv.stderr]).toEqual([0, '']);
    const [header, ...records] = parseCsv(csv.stdout);
    expect(header).toEqual(['id', 'at', 'actor_id', 'actor_name', 'channel', 'kind', 'subject', 'request_id', 'outcome', 'details', 'prev_hash', 'hash']);
    const rows = (await allRows(pool)).filter((r) => r.id <= records.length);
    expect(records.map((r) => r[0])).toEqual(rows.map((r) => String(r.id)));
    expect(records[1]).toEqual([
      '2',
      rows[1]?.at.toISOString(),
      'U1',
      'o"brien, jr',
      'C1',
      'action.request',
      'restart',
      'r1',
      'requested',
      '{"reason":"deploy broke\\nline two, \\"quoted\\""}',
      rows[0]?.hash,
      rows[1]?.hash,
    ]);
    expect(records[0]?.[7]).toBe('');
    expect(csv.stdout).toContain('"o""brien, jr"');

    const json = await vigil(['audit', 'export', '--format', 'json', '--action', 'restart'], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ id: 2, actor_name: 'o"brien, jr', details: { reason: 'deploy broke\nline two, "quoted"' } })]);
  });

  it('exits 64 on bad usage and 1 when the state database does not answer', async () => {
    const bad = await vigil(['audit', 'export', '--format', 'xml'], env);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('vigil audit export: --format: must be csv or json');
    const down = await vigil(['audit', 'verify'], { ...env, DATABASE_URL: 'postgres://postgres:s3cret@127.0.0.1:1/nowhere' });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^vigil audit verify: Vigil's state database is not available: /);
    expect(down.stdout + down.stderr).not.toContain('s3cret');
  });
});
