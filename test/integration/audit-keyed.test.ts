import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { advanceAnchor, readAnchor } from '../../src/audit/anchor.ts';
import { appendAuditEvents, auditKeyFrom, GENESIS_HASH, hashInput, hashRow, recordAuditEvents, toAuditRow, verifyAuditChain, type AuditEvent, type AuditRow } from '../../src/audit/chain.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pools.ts';
import { inTransaction } from '../../src/db/transaction.ts';
import { adminQuery, createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { TEST_REDIS_URL } from '../support/env.ts';
import { ensureBuilt, runNode } from '../support/run-process.ts';

/**
 * The audit chain keyed with VIGIL_AUDIT_KEY and anchored outside the database (issue 18): each
 * tampering that passed `vigil audit verify` before is refused now — a row appended with a correctly
 * computed hash by a role with INSERT, the newest rows deleted, every row deleted, the whole chain
 * re-chained by the table's owner — and the anchor does not follow a cut chain.
 */
const KEY = auditKeyFrom('test-audit-key-0123456789abcdef-0123');
const OTHER_KEY = auditKeyFrom('another-key-that-is-not-vigils-0123456');
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

let db: TestDatabase;
let pool: pg.Pool;
let dir: string;

const event = (n: number, o: Partial<AuditEvent> = {}): AuditEvent => ({ actorId: 'U0ALICE', kind: 'command', subject: 'health', outcome: 'ok', details: { n }, ...o });

async function rows(): Promise<AuditRow[]> {
  return (await pool.query('SELECT * FROM vigil.audit_events ORDER BY id')).rows.map((r) => toAuditRow(r as Record<string, unknown>));
}

/** As the table's owner with the append-only trigger off: what a superuser or the owner can do. */
async function asOwner(statement: string): Promise<void> {
  await adminQuery(`BEGIN; ALTER TABLE vigil.audit_events DISABLE TRIGGER audit_events_append_only; ${statement}; ALTER TABLE vigil.audit_events ENABLE TRIGGER audit_events_append_only; COMMIT;`, db.name);
}

/** A row inserted as written, hash included (INSERT is what the trigger allows anyone). */
async function insert(o: AuditRow): Promise<void> {
  await pool.query(
    'INSERT INTO vigil.audit_events (id, at, actor_id, actor_name, channel, kind, subject, request_id, outcome, details, prev_hash, hash, keyed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)',
    [o.id, o.at.toISOString(), o.actorId, o.actorName, o.channel, o.kind, o.subject, o.requestId, o.outcome, JSON.stringify(o.details), o.prevHash, o.hash, o.keyed],
  );
}

/** The row a forger with INSERT would append after `last`, hashed as they can (SHA-256, or a key of their own). */
function forgedAfter(last: AuditRow, how: { keyed: boolean; key?: Buffer | null }): AuditRow {
  const row = { id: last.id + 1, at: new Date(last.at.getTime() + 1), actorId: 'U0MALLORY', actorName: null, channel: null, kind: 'action.approve', subject: 'restart', requestId: null, outcome: 'approved', details: {}, prevHash: last.hash, keyed: how.keyed };
  return { ...row, hash: hashRow(row, how.key ?? null) as string };
}

async function freshChain(keyedEvents: number, unkeyedFirst = 0): Promise<void> {
  await asOwner('DELETE FROM vigil.audit_events');
  if (unkeyedFirst > 0) await recordAuditEvents(pool, Array.from({ length: unkeyedFirst }, (_, i) => event(i)));
  if (keyedEvents > 0) await inTransaction(pool, (c) => appendAuditEvents(c, Array.from({ length: keyedEvents }, (_, i) => event(100 + i)), KEY));
}

beforeAll(async () => {
  db = await createTestDatabase('audit_keyed');
  pool = createPool(db.url, { name: 'vigil-test-audit-keyed', max: 3, onIdleError: () => undefined });
  await migrate(pool);
  dir = mkdtempSync(join(tmpdir(), 'vigil-anchor-'));
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the keyed audit chain', () => {
  it('hashes a keyed row with HMAC-SHA256 over version vigil-audit/2, by a known answer', () => {
    // Computed outside Vigil: printf '%s' '<text>' | openssl dgst -sha256 -hmac 'test-audit-key-0123456789abcdef-0123'
    const row = { id: 1, at: new Date('2024-05-01T12:34:56.789Z'), actorId: 'U0ALICE', actorName: 'alice', channel: 'C0OPS', kind: 'action.approve', subject: 'restart', requestId: 'req-42', outcome: 'approved', details: { b: 1, a: { d: 'é', c: [2, 1] } }, prevHash: GENESIS_HASH, keyed: true };
    expect(hashInput(row)).toBe(`["vigil-audit/2","1","2024-05-01T12:34:56.789Z","U0ALICE","alice","C0OPS","action.approve","restart","req-42","approved",{"a":{"c":[2,1],"d":"é"},"b":1},"${GENESIS_HASH}"]`);
    expect(hashRow(row, KEY)).toBe('7af24c25ab8b0656cb8051098b50141993e71f41b68683b799530f723abdbb52');
    expect(hashRow(row, null)).toBeNull();
    expect(hashRow({ ...row, keyed: false }, KEY)).toBe(sha256(hashInput({ ...row, keyed: false })));
  });

  it('continues an unkeyed chain with keyed rows, and checks only with the key', async () => {
    await freshChain(3, 2);
    expect((await rows()).map((r) => r.keyed)).toEqual([false, false, true, true, true]);
    expect(await verifyAuditChain(pool, { key: KEY })).toMatchObject({ ok: true, checked: 5, keyedFrom: 3 });
    expect(await verifyAuditChain(pool)).toMatchObject({ ok: false, brokenId: 3, reason: expect.stringContaining('set VIGIL_AUDIT_KEY') });
    expect(await verifyAuditChain(pool, { key: OTHER_KEY })).toMatchObject({ ok: false, brokenId: 3, reason: expect.stringContaining('HMAC mismatch') });
  });

  it('refuses a row appended by a role with INSERT, whether hashed unkeyed or with a key of its own', async () => {
    await freshChain(3);
    const last = (await rows()).at(-1) as AuditRow;
    await insert(forgedAfter(last, { keyed: false }));
    expect(await verifyAuditChain(pool, { key: KEY })).toMatchObject({ ok: false, brokenId: 4, reason: expect.stringContaining('an unkeyed row after keyed ones') });

    await freshChain(3);
    await insert(forgedAfter((await rows()).at(-1) as AuditRow, { keyed: true, key: OTHER_KEY }));
    expect(await verifyAuditChain(pool, { key: KEY })).toMatchObject({ ok: false, brokenId: 4, reason: expect.stringContaining('HMAC mismatch') });
  });
});

describe('the anchor outside the database', () => {
  const path = () => join(dir, 'audit-anchor.json');

  it('catches the newest rows deleted, and is not moved onto the cut chain', async () => {
    await freshChain(5);
    rmSync(path(), { force: true });
    expect(await advanceAnchor(pool, path(), KEY, new Date())).toMatchObject({ kind: 'anchored', anchor: { id: 5 } });
    const anchor = (readAnchor(path(), KEY) as { anchor: { id: number; hash: string } }).anchor;
    expect(await verifyAuditChain(pool, { key: KEY, anchor })).toMatchObject({ ok: true, checked: 5 });

    await asOwner('DELETE FROM vigil.audit_events WHERE id > 3');
    // The chain alone still checks out: only the anchor shows the cut.
    expect(await verifyAuditChain(pool, { key: KEY })).toMatchObject({ ok: true, checked: 3 });
    expect(await verifyAuditChain(pool, { key: KEY, anchor })).toMatchObject({ ok: false, brokenId: 5, reason: expect.stringContaining('rows at the end were deleted') });
    // New rows after the cut do not hide it, and the anchor stays where it was.
    await inTransaction(pool, (c) => appendAuditEvents(c, [event(9), event(10), event(11)], KEY));
    expect(await advanceAnchor(pool, path(), KEY, new Date())).toMatchObject({ kind: 'refused', reason: expect.stringContaining('anchored row 5 is changed') });
    expect(readAnchor(path(), KEY)).toEqual({ anchor });
    expect(await verifyAuditChain(pool, { key: KEY, anchor })).toMatchObject({ ok: false, brokenId: 5, reason: expect.stringContaining('another hash') });
  });

  it('catches every row deleted, and the whole chain re-chained by its owner', async () => {
    await freshChain(4);
    rmSync(path(), { force: true });
    await advanceAnchor(pool, path(), KEY, new Date());
    const anchor = (readAnchor(path(), KEY) as { anchor: { id: number; hash: string } }).anchor;

    // Rewritten from scratch, unkeyed and consistent: fine for the chain alone, not for the anchor.
    const rewritten: AuditRow[] = [];
    for (const r of await rows()) {
      const row = { ...r, outcome: 'rewritten', keyed: false, prevHash: rewritten.at(-1)?.hash ?? GENESIS_HASH };
      rewritten.push({ ...row, hash: hashRow(row) as string });
    }
    await asOwner('DELETE FROM vigil.audit_events');
    for (const r of rewritten) await insert(r);
    expect(await verifyAuditChain(pool)).toMatchObject({ ok: true, checked: 4 });
    expect(await verifyAuditChain(pool, { key: KEY, anchor })).toMatchObject({ ok: false, brokenId: 4, reason: expect.stringContaining('another hash') });

    await asOwner('DELETE FROM vigil.audit_events');
    expect(await verifyAuditChain(pool, { key: KEY })).toMatchObject({ ok: true, checked: 0 });
    expect(await verifyAuditChain(pool, { key: KEY, anchor })).toMatchObject({ ok: false, reason: expect.stringContaining('no row at all') });
  });

  it('refuses an anchor file not signed with the key', async () => {
    await freshChain(2);
    rmSync(path(), { force: true });
    await advanceAnchor(pool, path(), KEY, new Date());
    const written = JSON.parse(readFileSync(path(), 'utf8')) as { id: number };
    writeFileSync(path(), JSON.stringify({ ...written, id: 1 }));
    expect(readAnchor(path(), KEY)).toEqual({ problem: expect.stringContaining('not signed with VIGIL_AUDIT_KEY') });
    expect(await advanceAnchor(pool, path(), KEY, new Date())).toMatchObject({ kind: 'refused' });
  });
});

describe('`vigil audit verify` with the key and an anchor', () => {
  it('exits 0 while the chain holds its anchor, 2 once the newest rows are deleted, naming the cut', { timeout: 60_000 }, async () => {
    ensureBuilt();
    await freshChain(3);
    const anchorFile = join(dir, 'cli-anchor.json');
    rmSync(anchorFile, { force: true });
    await advanceAnchor(pool, anchorFile, KEY, new Date());
    const env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, VIGIL_AUDIT_KEY: 'test-audit-key-0123456789abcdef-0123' };
    const verify = () => runNode(['src/bin/vigil.mjs', 'audit', 'verify', '--anchor', anchorFile], env);

    const ok = await verify();
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    expect(ok.stdout).toContain('audit chain ok: 3 events, keyed (HMAC) from id 1');
    expect(ok.stdout).toContain('anchor: id 3');
    // The verify run itself is a keyed row of the chain.
    expect((await rows()).at(-1)).toMatchObject({ id: 4, subject: 'audit', keyed: true });

    await asOwner('DELETE FROM vigil.audit_events WHERE id >= 3');
    const cut = await verify();
    expect(cut.code).toBe(2);
    expect(cut.stdout).toMatch(/^audit chain broken at id 3: the chain ends at id 2, but the anchor recorded row 3: rows at the end were deleted/);

    // Without the key the keyed rows cannot be checked: said, not passed.
    const keyless = await runNode(['src/bin/vigil.mjs', 'audit', 'verify'], { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL });
    expect(keyless.code).toBe(2);
    expect(keyless.stdout).toContain('set VIGIL_AUDIT_KEY');
  });
});
