import type pg from 'pg';
import type { Queryable } from '../db/queryable.ts';
import { inTransaction } from '../db/transaction.ts';
import { canonicalJson, hashRow, type AuditKey, type HashedRow } from './chain-hash.ts';

export { auditKeyFrom, canonicalJson, hashInput, hashRow, type AuditKey } from './chain-hash.ts';

/**
 * The audit trail: `vigil.audit_events`, append-only (a trigger refuses UPDATE, DELETE, TRUNCATE)
 * and hash-chained, so a row changed or removed behind Vigil's back is found by `verifyAuditChain`.
 *
 * What is hashed, and how (SHA-256, or HMAC-SHA256 with VIGIL_AUDIT_KEY): see chain-hash.ts.
 * Every column takes part, so changing any of them, or the order of rows, breaks the chain at
 * that row. `prev_hash` is the previous row's `hash`, or 64 zeros for row 1.
 *
 * How rows are appended. Under one transaction-level advisory lock the appender reads the last
 * row, numbers the new rows last id + 1, 2, … (no sequence: a rolled-back transaction would leave
 * a gap, and a gap must mean a deleted row), stamps them with the database's clock (never earlier
 * than the last row, so time only moves forward along the chain), hashes them in order and inserts
 * them in one statement. The lock is held until the caller's transaction ends, so appenders on any
 * replica form one line; `prev_hash` is UNIQUE and `id` the primary key, so even an appender that
 * skipped the lock could only fail, never fork the chain.
 *
 * Secrets never go in an event: callers pass ids, names and redacted parameters, never tokens,
 * passwords or connection strings (see src/core/redact.ts and describeError).
 */

/** One thing that happened, as a caller describes it; id, time and hashes are the chain's job. */
export interface AuditEvent {
  /** Slack user id, the OS user of a CLI run, or 'vigil' for Vigil's own doings (worker, expiry). */
  actorId: string;
  actorName?: string;
  channel?: string;
  /** 'command', 'action.request', 'action.approve', 'action.start', 'alert.ack', … */
  kind: string;
  /** What it was about: a command name, an action id, an alert group. */
  subject: string;
  requestId?: string;
  outcome: string;
  /** Redacted, JSON-serialisable context; never a secret. */
  details?: Record<string, unknown>;
  /** A UUID the audit writer sets so a retried write is recognised (see storedWriteKeys); not hashed. */
  writeKey?: string;
}

/** One stored row of `vigil.audit_events`. */
export interface AuditRow extends HashedRow {
  /** Hashed with VIGIL_AUDIT_KEY (HMAC) rather than plain SHA-256. */
  keyed: boolean;
  hash: string;
}

export type ChainCheck =
  /** `keyedFrom`: the first row hashed with VIGIL_AUDIT_KEY (null: none is). */
  | { ok: true; checked: number; head: { id: number; hash: string } | null; keyedFrom: number | null }
  | { ok: false; checked: number; brokenId: number; reason: string };

export const AUDIT_TABLE = 'vigil.audit_events';
export const GENESIS_HASH = '0'.repeat(64);
/** Columns in the order rows are read and written. */
export const AUDIT_COLUMNS = 'id, at, actor_id, actor_name, channel, kind, subject, request_id, outcome, details, prev_hash, hash, keyed';
// "vigilA" in ASCII: one lock for the whole chain, recognisable in pg_locks.
export const CHAIN_LOCK = 0x766967696c41;

/**
 * Postgres text refuses NUL and jsonb refuses lone surrogates: replace both, so one odd character
 * in a command's arguments never loses a whole batch of events.
 */
function clean(text: string): string {
  return text.replace(/\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

function cleanValue(value: unknown): unknown {
  if (typeof value === 'string') return clean(value);
  if (Array.isArray(value)) return value.map(cleanValue);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [clean(k), cleanValue(v)]));
}

const optional = (text: string | undefined) => (text === undefined ? null : clean(text));

/**
 * Append events to the chain, in order, as part of the caller's transaction: `db` must be a client
 * inside BEGIN … COMMIT (READ COMMITTED, the default), so a state change and its audit events
 * commit or roll back together. The chain's lock is held until that transaction ends: append late
 * in it.
 */
export async function appendAuditEvents(db: Queryable, events: readonly AuditEvent[], key: AuditKey = null): Promise<void> {
  if (events.length === 0) return;
  // A statement of its own: under READ COMMITTED the next statement's snapshot then sees the
  // row the previous lock holder committed.
  // Marked `/* vigil`, like every statement Vigil runs often: /slowqueries leaves them out.
  await db.query('SELECT /* vigil:audit lock */ pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
  const { rows } = await db.query(
    `SELECT /* vigil:audit head */ clock_timestamp() AS now, last.id, last.at, last.hash
       FROM (SELECT 1) AS one
       LEFT JOIN LATERAL (SELECT id, at, hash FROM ${AUDIT_TABLE} ORDER BY id DESC LIMIT 1) AS last ON true`,
  );
  const head = rows[0] as { now: Date; id: string | null; at: Date | null; hash: string | null };
  const at = new Date(Math.max(head.now.getTime(), head.at?.getTime() ?? 0));
  let id = Number(head.id ?? 0);
  let prevHash = head.hash ?? GENESIS_HASH;
  const stored = events.map((e): AuditRow => {
    id += 1;
    const row: Omit<AuditRow, 'hash'> = {
      keyed: key !== null,
      id,
      at,
      actorId: clean(e.actorId),
      actorName: optional(e.actorName),
      channel: optional(e.channel),
      kind: clean(e.kind),
      subject: clean(e.subject),
      requestId: optional(e.requestId),
      outcome: clean(e.outcome),
      // Normalised as jsonb will give it back, so what is hashed now is what verify reads later.
      details: JSON.parse(canonicalJson(cleanValue(e.details ?? {}))) as Record<string, unknown>,
      prevHash,
    };
    prevHash = hashRow(row, key) as string; // never null: a keyed row is hashed with its key
    return { ...row, hash: prevHash };
  });
  // One statement shape whatever the batch size: pg_stat_statements keeps one entry for it.
  await db.query(
    `INSERT INTO ${AUDIT_TABLE} (${AUDIT_COLUMNS}, write_key)
     SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
                          $7::text[], $8::text[], $9::text[], $10::jsonb[], $11::text[], $12::text[], $13::boolean[], $14::uuid[])`,
    [
      stored.map((r) => String(r.id)),
      stored.map((r) => r.at.toISOString()),
      stored.map((r) => r.actorId),
      stored.map((r) => r.actorName),
      stored.map((r) => r.channel),
      stored.map((r) => r.kind),
      stored.map((r) => r.subject),
      stored.map((r) => r.requestId),
      stored.map((r) => r.outcome),
      stored.map((r) => canonicalJson(r.details)),
      stored.map((r) => r.prevHash),
      stored.map((r) => r.hash),
      stored.map((r) => r.keyed),
      events.map((e) => e.writeKey ?? null),
    ],
  );
}

/** Which of these write keys are already stored: the part of a batch an earlier attempt did write. */
export async function storedWriteKeys(db: Queryable, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await db.query(`SELECT /* vigil:audit written */ write_key::text AS key FROM ${AUDIT_TABLE} WHERE write_key = ANY($1::uuid[])`, [keys]);
  return new Set(rows.map((r) => String((r as { key: string }).key)));
}

/** Append events in a transaction of their own (for events that go with no other change). */
export async function recordAuditEvents(pool: pg.Pool, events: readonly AuditEvent[], key: AuditKey = null): Promise<void> {
  if (events.length === 0) return;
  await inTransaction(pool, (client) => appendAuditEvents(client, events, key));
}

/** The chain as Vigil writes it: with its key (HMAC) when VIGIL_AUDIT_KEY is set. */
export interface AuditChain {
  /** In the caller's transaction (see appendAuditEvents). */
  append(db: Queryable, events: readonly AuditEvent[]): Promise<void>;
  /** In a transaction of its own. */
  record(pool: pg.Pool, events: readonly AuditEvent[]): Promise<void>;
}

export function auditChain(key: AuditKey): AuditChain {
  return { append: (db, events) => appendAuditEvents(db, events, key), record: (pool, events) => recordAuditEvents(pool, events, key) };
}

/** A row as node-pg returns it (bigint as string, jsonb parsed, timestamptz as Date). */
export function toAuditRow(r: Record<string, unknown>): AuditRow {
  return {
    id: Number(r.id),
    at: r.at as Date,
    actorId: r.actor_id as string,
    actorName: (r.actor_name as string | null) ?? null,
    channel: (r.channel as string | null) ?? null,
    kind: r.kind as string,
    subject: r.subject as string,
    requestId: (r.request_id as string | null) ?? null,
    outcome: r.outcome as string,
    details: (r.details as Record<string, unknown> | null) ?? {},
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
    keyed: r.keyed === true,
  };
}

/**
 * Walk the whole chain in id order, a page at a time, and stop at the first row that breaks it:
 * ids must run 1, 2, 3 … (a gap means deleted rows), each row's `prev_hash` must be the hash of the
 * row before (64 zeros for the first), and each row's `hash` must match its content: SHA-256 for
 * unkeyed rows, HMAC with `key` for keyed ones. Once a keyed row appears, every later row must be
 * keyed (a row added without the key cannot pass as one). `anchor`, a head recorded outside the
 * database, must still be in the chain with the same hash: the newest rows deleted, or the whole
 * chain rewritten or emptied, shows there.
 */
export async function verifyAuditChain(db: Queryable, opts: { pageSize?: number; key?: AuditKey; anchor?: { id: number; hash: string } | null } = {}): Promise<ChainCheck> {
  const pageSize = opts.pageSize ?? 1000;
  const key = opts.key ?? null;
  const anchor = opts.anchor ?? null;
  let checked = 0;
  let expectedId = 1;
  let prevHash = GENESIS_HASH;
  let keyedFrom: number | null = null;
  for (;;) {
    const { rows } = await db.query(`SELECT ${AUDIT_COLUMNS} FROM ${AUDIT_TABLE} WHERE id >= $1 ORDER BY id LIMIT $2`, [expectedId, pageSize]);
    for (const raw of rows) {
      const row = toAuditRow(raw as Record<string, unknown>);
      const broken = (reason: string): ChainCheck => ({ ok: false, checked, brokenId: row.id, reason });
      if (row.id !== expectedId) return broken(`id gap: expected id ${expectedId} next, found ${row.id} (rows deleted?)`);
      if (row.prevHash !== prevHash) {
        return broken(expectedId === 1 ? 'the first row does not start from the genesis hash' : `prev_hash does not match the hash of row ${expectedId - 1}`);
      }
      if (!row.keyed && keyedFrom !== null) return broken(`an unkeyed row after keyed ones (from id ${keyedFrom}): written without VIGIL_AUDIT_KEY, so not by Vigil`);
      if (row.keyed) keyedFrom ??= row.id;
      const hash = hashRow(row, key);
      if (hash === null) return broken('the row is keyed (HMAC): set VIGIL_AUDIT_KEY to the key Vigil writes with to check it');
      if (hash !== row.hash) return broken(row.keyed ? 'HMAC mismatch: the row was changed, or written without the key' : 'hash mismatch: the row was changed after it was written');
      if (anchor && row.id === anchor.id && row.hash !== anchor.hash) return broken(`the anchor recorded row ${anchor.id} with another hash: the chain was rewritten from here or before`);
      checked += 1;
      expectedId += 1;
      prevHash = row.hash;
    }
    if (rows.length < pageSize) break;
  }
  const head = checked === 0 ? null : { id: expectedId - 1, hash: prevHash };
  if (anchor && (head === null || head.id < anchor.id)) {
    return { ok: false, checked, brokenId: anchor.id, reason: `the chain ends at ${head ? `id ${head.id}` : 'no row at all'}, but the anchor recorded row ${anchor.id}: rows at the end were deleted` };
  }
  return { ok: true, checked, head, keyedFrom };
}

/** What /audit and `vigil audit export` narrow the trail to. */
export interface AuditFilter {
  /** A kind (`command`), a family of kinds (`action` → `action.*`) or a subject (`health`, `restart`). */
  action?: string;
  /** An actor id (a mention is read as its id) or display name. */
  user?: string;
  since?: Date;
}

/** Events matching `filter`: newest first (for reading) or oldest first after `afterId` (for paging an export). */
export async function listAuditEvents(
  db: Queryable,
  filter: AuditFilter,
  page: { limit: number; order: 'newest' | 'oldest'; afterId?: number },
): Promise<AuditRow[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown) => `$${values.push(value)}`;
  if (filter.action !== undefined) {
    const exact = param(filter.action);
    where.push(`(kind = ${exact} OR subject = ${exact} OR kind LIKE ${param(`${filter.action.replace(/[\\%_]/g, '\\$&')}.%`)})`);
  }
  if (filter.user !== undefined) {
    const who = param(filter.user);
    where.push(`(actor_id = ${who} OR actor_name = ${who})`);
  }
  if (filter.since) where.push(`at >= ${param(filter.since.toISOString())}`);
  if (page.afterId !== undefined) where.push(`id > ${param(page.afterId)}`);
  const { rows } = await db.query(
    `SELECT ${AUDIT_COLUMNS} FROM ${AUDIT_TABLE}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
     ORDER BY id ${page.order === 'newest' ? 'DESC' : 'ASC'} LIMIT ${param(page.limit)}`,
    values,
  );
  return rows.map((r) => toAuditRow(r as Record<string, unknown>));
}
