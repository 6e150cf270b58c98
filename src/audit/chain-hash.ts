import { createHash, createHmac } from 'node:crypto';

/**
 * How a row of the audit chain is hashed. Each row's `hash` is computed over the UTF-8 text
 *
 *   JSON.stringify([version, id, at, actor_id, actor_name, channel, kind, subject,
 *                   request_id, outcome, details, prev_hash])
 *
 * with `id` as a decimal string, `at` as an ISO-8601 UTC string with milliseconds, absent optional
 * columns as null, and `details` with the keys of every object sorted (jsonb keeps no key order).
 *
 * - Unkeyed rows (`keyed` false, version `vigil-audit/1`): SHA-256, lower-case hex. Anyone who can
 *   INSERT can compute it, so they only show accidental or unskilled changes.
 * - Keyed rows (`keyed` true, version `vigil-audit/2`, written while VIGIL_AUDIT_KEY is set):
 *   HMAC-SHA256 with that key, which never lives in the database, so a row added, changed or
 *   re-chained by anyone without the key does not check out.
 */

/** The columns a row's hash covers, and whether it is keyed. */
export interface HashedRow {
  id: number;
  at: Date;
  actorId: string;
  actorName: string | null;
  channel: string | null;
  kind: string;
  subject: string;
  requestId: string | null;
  outcome: string;
  details: Record<string, unknown>;
  prevHash: string;
  keyed?: boolean;
}

/** VIGIL_AUDIT_KEY's bytes; null where none is configured. */
export type AuditKey = Buffer | null;

const VERSION = { unkeyed: 'vigil-audit/1', keyed: 'vigil-audit/2' } as const;

/** JSON with every object's keys sorted, after JSON's own normalisation (toJSON, undefined dropped). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(JSON.parse(JSON.stringify(value ?? null)) as unknown));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
}

/** The exact text a row's hash is computed over (see the module comment). */
export function hashInput(row: HashedRow): string {
  return canonicalJson([
    row.keyed ? VERSION.keyed : VERSION.unkeyed,
    String(row.id),
    row.at.toISOString(),
    row.actorId,
    row.actorName,
    row.channel,
    row.kind,
    row.subject,
    row.requestId,
    row.outcome,
    row.details,
    row.prevHash,
  ]);
}

/**
 * The row's hash: SHA-256 for an unkeyed row, HMAC-SHA256 for a keyed one. A keyed row without a
 * key cannot be hashed: null (verify then says the key is needed).
 */
export function hashRow(row: HashedRow, key: AuditKey = null): string | null {
  if (!row.keyed) return createHash('sha256').update(hashInput(row), 'utf8').digest('hex');
  return key ? createHmac('sha256', key).update(hashInput(row), 'utf8').digest('hex') : null;
}

/** VIGIL_AUDIT_KEY as bytes: the text itself (at least 32 characters, checked where env is read). */
export function auditKeyFrom(text: string | undefined): AuditKey {
  return text === undefined ? null : Buffer.from(text, 'utf8');
}
