import type { Reply } from '../core/reply.ts';
import { selectRows, type Queryable } from '../db/queryable.ts';
import { STATE_SCHEMA } from '../db/migrate.ts';
import type { Baseline } from './section.ts';

const RUNS = `${STATE_SCHEMA}.report_runs`;
const ITEMS = `${STATE_SCHEMA}.report_checklist_items`;

/** The outbox key of a report's message: one per report and tick, on every replica. */
export function reportKey(name: string, tickAt: number): string {
  return `report:${name}:${new Date(tickAt).toISOString()}`;
}

export interface ReportRun {
  id: number;
  name: string;
  tickAt: number;
  channel: string;
  messageKey: string;
  reply: Reply;
  deadlineAt: number | null;
  remindedAt: number | null;
}

export interface ChecklistItem {
  position: number;
  label: string;
  checkedBy: string | null;
  checkedAt: number | null;
}

interface RunRow {
  id: string;
  name: string;
  tick_at: Date;
  channel: string;
  message_key: string;
  reply: Reply;
  deadline_at: Date | null;
  reminded_at: Date | null;
}

const toRun = (r: RunRow): ReportRun => ({
  id: Number(r.id),
  name: r.name,
  tickAt: r.tick_at.getTime(),
  channel: r.channel,
  messageKey: r.message_key,
  reply: r.reply,
  deadlineAt: r.deadline_at?.getTime() ?? null,
  remindedAt: r.reminded_at?.getTime() ?? null,
});

/** The latest report of this name before `before`: what "new since" and "grew since" compare with. */
export async function previousRun(db: Queryable, name: string, before: number): Promise<{ tickAt: number; baseline: Baseline } | null> {
  const [row] = await selectRows<{ tick_at: Date; baseline: Baseline }>(db, `SELECT tick_at, baseline FROM ${RUNS} WHERE name = $1 AND tick_at < $2 ORDER BY tick_at DESC LIMIT 1`, [
    name,
    new Date(before),
  ]);
  return row ? { tickAt: row.tick_at.getTime(), baseline: row.baseline } : null;
}

export interface NewRun {
  name: string;
  tickAt: number;
  windowMs: number;
  channel: string;
  reply: Reply;
  baseline: Baseline;
  deadlineAt: number | null;
  checklist: readonly string[];
}

/**
 * Record the report of this tick with its checklist; null when the tick already has one (another
 * replica, or a retry after a lost lease, got there first): then nothing more may be posted.
 */
export async function insertRun(db: Queryable, run: NewRun): Promise<ReportRun | null> {
  const [row] = await selectRows<RunRow>(
    db,
    `INSERT INTO ${RUNS} (name, tick_at, window_ms, channel, message_key, baseline, reply, deadline_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (name, tick_at) DO NOTHING RETURNING *`,
    [run.name, new Date(run.tickAt), run.windowMs, run.channel, reportKey(run.name, run.tickAt), JSON.stringify(run.baseline), JSON.stringify(run.reply), run.deadlineAt === null ? null : new Date(run.deadlineAt)],
  );
  if (!row) return null;
  if (run.checklist.length > 0) {
    await db.query(`INSERT INTO ${ITEMS} (run_id, position, label) SELECT $1, p - 1, label FROM unnest($2::text[]) WITH ORDINALITY AS t(label, p)`, [row.id, [...run.checklist]]);
  }
  return toRun(row);
}

/** A run, locked until the caller's transaction ends: clicks on one report's checklist go one at a time. */
export async function lockRun(db: Queryable, id: number): Promise<ReportRun | null> {
  const [row] = await selectRows<RunRow>(db, `SELECT * FROM ${RUNS} WHERE id = $1 FOR UPDATE`, [id]);
  return row ? toRun(row) : null;
}

export async function checklistOf(db: Queryable, runId: number): Promise<ChecklistItem[]> {
  const rows = await selectRows<{ position: number; label: string; checked_by: string | null; checked_at: Date | null }>(
    db,
    `SELECT position, label, checked_by, checked_at FROM ${ITEMS} WHERE run_id = $1 ORDER BY position`,
    [runId],
  );
  return rows.map((r) => ({ position: r.position, label: r.label, checkedBy: r.checked_by, checkedAt: r.checked_at?.getTime() ?? null }));
}

/** Tick an item once: false when it was already ticked (a double click, two people at once). */
export async function checkItem(db: Queryable, runId: number, position: number, who: string, at: number): Promise<boolean> {
  const { rows } = await db.query(`UPDATE ${ITEMS} SET checked_by = $3, checked_at = $4 WHERE run_id = $1 AND position = $2 AND checked_at IS NULL RETURNING position`, [
    runId,
    position,
    who,
    new Date(at),
  ]);
  return rows.length === 1;
}

/** Runs whose checklist deadline passed and that were not reminded yet (oldest first). */
export async function dueRuns(db: Queryable, now: number, limit = 20): Promise<number[]> {
  const rows = await selectRows<{ id: string }>(db, `SELECT id FROM ${RUNS} WHERE deadline_at <= $1 AND reminded_at IS NULL ORDER BY deadline_at LIMIT $2`, [new Date(now), limit]);
  return rows.map((r) => Number(r.id));
}

/** Claim a run's reminder: true for exactly one caller, however many replicas ask. */
export async function claimReminder(db: Queryable, runId: number, now: number): Promise<boolean> {
  const { rows } = await db.query(`UPDATE ${RUNS} SET reminded_at = $2 WHERE id = $1 AND reminded_at IS NULL RETURNING id`, [runId, new Date(now)]);
  return rows.length === 1;
}
