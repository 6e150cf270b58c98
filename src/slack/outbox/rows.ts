import { z } from 'zod';
import { STATE_SCHEMA } from '../../db/migrate.ts';
import type { Queryable } from '../../db/queryable.ts';

/**
 * `vigil.outbox_messages`: the outbox's record of every message, the truth Redis only mirrors.
 * A row is written in the sender's transaction and finished when its message leaves the line
 * (delivered, superseded, given up); an open row whose job Redis no longer has is re-enqueued.
 */
const TABLE = `${STATE_SCHEMA}.outbox_messages`;

export interface OutboxRow {
  key: string;
  seq: number;
  op: 'post' | 'update';
  channel: string;
  target: string | null;
  /** The job as the worker takes it, without `seq` (the row's). */
  job: Record<string, unknown>;
}

const rowSchema = z.object({
  key: z.string(),
  seq: z.coerce.number().int().positive(),
  op: z.enum(['post', 'update']),
  channel: z.string(),
  target: z.string().nullable(),
  job: z.record(z.string(), z.unknown()),
});

/** Record a message; its seq, or null when the key has a row already (a duplicate). */
export async function insertOutboxRow(db: Queryable, row: Omit<OutboxRow, 'seq'>): Promise<number | null> {
  const { rows } = await db.query(
    `INSERT INTO ${TABLE} (key, op, channel, target, job) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING RETURNING seq`,
    [row.key, row.op, row.channel, row.target, JSON.stringify(row.job)],
  );
  const seq = (rows[0] as { seq?: unknown } | undefined)?.seq;
  return seq === undefined ? null : Number(seq);
}

/** The channel of a message the outbox was given (posted or not), or null. */
export async function outboxChannelOf(db: Queryable, key: string): Promise<string | null> {
  const { rows } = await db.query(`SELECT channel FROM ${TABLE} WHERE key = $1`, [key]);
  return (rows[0] as { channel?: string } | undefined)?.channel ?? null;
}

/** The open row of `key` (not yet delivered, superseded or given up), or null. */
export async function openOutboxRow(db: Queryable, key: string): Promise<OutboxRow | null> {
  const { rows } = await db.query(`SELECT key, seq, op, channel, target, job FROM ${TABLE} WHERE key = $1 AND finished_at IS NULL`, [key]);
  return rows.length > 0 ? rowSchema.parse(rows[0]) : null;
}

/** Whether `key`'s row is visible, finished or not: false while its transaction is open or after it rolled back. */
export async function outboxRowExists(db: Queryable, key: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM ${TABLE} WHERE key = $1`, [key]);
  return rows.length > 0;
}

/** Nothing more to send under `key`. */
export async function finishOutboxRow(db: Queryable, key: string): Promise<void> {
  await db.query(`UPDATE ${TABLE} SET finished_at = now() WHERE key = $1 AND finished_at IS NULL`, [key]);
}

/** Open rows older than `olderThanMs`, oldest first: what a reconciler checks against Redis. */
export async function openOutboxRows(db: Queryable, olderThanMs: number, limit: number): Promise<OutboxRow[]> {
  const { rows } = await db.query(
    `SELECT key, seq, op, channel, target, job FROM ${TABLE} WHERE finished_at IS NULL AND created_at < now() - make_interval(secs => $1) ORDER BY seq LIMIT $2`,
    [olderThanMs / 1000, limit],
  );
  return rows.map((r) => rowSchema.parse(r));
}

/** Whether a newer update of the message `target` was sent: an older one need not go out any more. */
export async function newerUpdateExists(db: Queryable, target: string, seq: number): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM ${TABLE} WHERE op = 'update' AND target = $1 AND seq > $2 LIMIT 1`, [target, seq]);
  return rows.length > 0;
}

/** Finished rows older than `days`, a bounded batch at a time; how many were deleted. */
export async function pruneOutboxRows(db: Queryable, days: number, limit: number): Promise<number> {
  const { rows } = await db.query(
    `DELETE FROM ${TABLE} WHERE key IN (SELECT key FROM ${TABLE} WHERE finished_at < now() - make_interval(days => $1) LIMIT $2) RETURNING 1`,
    [days, limit],
  );
  return rows.length;
}
