import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/load.ts';
import { z } from 'zod';
import type { Queryable } from '../db/queryable.ts';
import { AUDIT_TABLE } from './chain.ts';
import type { AuditKey } from './chain-hash.ts';

/**
 * The head of the audit chain, kept outside the database: the newest rows deleted, or the chain
 * emptied or rewritten, cannot be seen from the chain alone, but the anchored row is then missing
 * or different. Signed with VIGIL_AUDIT_KEY when one is set, so the file cannot be forged either.
 */
export interface Anchor {
  id: number;
  hash: string;
  /** When it was written (ISO-8601). */
  at: string;
  /** HMAC of id and hash with VIGIL_AUDIT_KEY; absent without a key. */
  mac?: string;
}

const anchorSchema = z.object({ id: z.number().int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/), at: z.string(), mac: z.string().optional() }).strict();

function macOf(key: Buffer, id: number, hash: string): string {
  return createHmac('sha256', key).update(`vigil-audit-anchor/1\n${id}\n${hash}`, 'utf8').digest('hex');
}

export function signAnchor(head: { id: number; hash: string }, key: AuditKey, at: Date): Anchor {
  return { id: head.id, hash: head.hash, at: at.toISOString(), ...(key ? { mac: macOf(key, head.id, head.hash) } : {}) };
}

/** The anchor in `path`: null when there is none; a problem when it cannot be trusted. */
export function readAnchor(path: string, key: AuditKey): { anchor: Anchor } | { problem: string } | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { problem: `the anchor ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: `the anchor ${path} is not valid JSON` };
  }
  const parsed = anchorSchema.safeParse(json);
  if (!parsed.success) return { problem: `the anchor ${path} is not an anchor Vigil wrote` };
  const anchor = parsed.data;
  if (key) {
    const want = Buffer.from(macOf(key, anchor.id, anchor.hash), 'hex');
    const got = Buffer.from(anchor.mac ?? '', 'hex');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return { problem: `the anchor ${path} is not signed with VIGIL_AUDIT_KEY (forged, or written without the key)` };
  }
  return { anchor };
}

/** Replace the file whole (write, then rename): a crash leaves the old anchor or the new one. */
export function writeAnchor(path: string, anchor: Anchor): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(anchor)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** The newest row's id and hash, or null for an empty chain. */
export async function chainHead(db: Queryable): Promise<{ id: number; hash: string } | null> {
  const { rows } = await db.query(`SELECT /* vigil:audit anchor */ id, hash FROM ${AUDIT_TABLE} ORDER BY id DESC LIMIT 1`);
  const row = rows[0] as { id: string; hash: string } | undefined;
  return row ? { id: Number(row.id), hash: row.hash } : null;
}

/** The hash of row `id`, or null when there is no such row. */
export async function chainHashAt(db: Queryable, id: number): Promise<string | null> {
  const { rows } = await db.query(`SELECT /* vigil:audit anchor */ hash FROM ${AUDIT_TABLE} WHERE id = $1`, [id]);
  return (rows[0] as { hash: string } | undefined)?.hash ?? null;
}

export type AnchorOutcome = { kind: 'anchored'; anchor: Anchor } | { kind: 'unchanged' } | { kind: 'empty' } | { kind: 'refused'; reason: string };

/**
 * Move the anchor to the chain's head, but only forward along the same chain: when the anchored
 * row is gone or has another hash, the rows were deleted or rewritten, and the old anchor is kept
 * as the evidence (recording the cut head would hide the cut).
 */
export async function advanceAnchor(db: Queryable, path: string, key: AuditKey, now: Date): Promise<AnchorOutcome> {
  const head = await chainHead(db);
  const current = readAnchor(path, key);
  if (current && 'problem' in current) return { kind: 'refused', reason: current.problem };
  const previous = current?.anchor ?? null;
  if (previous) {
    const hashThen = await chainHashAt(db, previous.id);
    if (hashThen !== previous.hash) {
      return { kind: 'refused', reason: `the anchored row ${previous.id} is ${hashThen === null ? 'gone' : 'changed'}: the audit chain was cut or rewritten (run vigil audit verify)` };
    }
    if (head && head.id === previous.id) return { kind: 'unchanged' };
  }
  if (!head) return { kind: 'empty' };
  const anchor = signAnchor(head, key, now);
  writeAnchor(path, anchor);
  return { kind: 'anchored', anchor };
}

/**
 * Where the chain's head is anchored: `state.auditAnchor`, else one file per state database under
 * `.vigil/audit-anchor/` (`database` names it without credentials, `host:port/dbname`), so an
 * anchor is never checked against another database's chain.
 */
export function auditAnchorPath(config: Config, database: string): string {
  if (config.file.state.auditAnchor) return resolve(config.cwd, config.file.state.auditAnchor);
  return join(config.dataDir, 'audit-anchor', `${createHash('sha256').update(database).digest('hex').slice(0, 16)}.json`);
}
