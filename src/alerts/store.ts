import { z } from 'zod';
import { STATE_SCHEMA } from '../db/migrate.ts';
import type { Queryable } from '../db/queryable.ts';
import type { AlertGroup, GroupSilence, GroupView } from './group.ts';
import { groupIdOf, notificationSchema, type Notification } from './notification.ts';
import { RANK } from './routing.ts';

export const TABLES = {
  notifications: `${STATE_SCHEMA}.alert_notifications`,
  groups: `${STATE_SCHEMA}.alert_groups`,
} as const;

/**
 * Store a notification before answering its sender: the 2xx means it is in Postgres. `dueInMs`
 * holds it back that long (a test alert's own resolve): the processor only takes notifications
 * that are due, so the delay survives a restart. It counts as received when due, so the delivery
 * latency measured from receipt stays about Vigil, not about the wait.
 */
export async function storeNotification(db: Queryable, n: Notification, opts: { dueInMs?: number } = {}): Promise<{ id: number; groupId: string }> {
  const groupId = groupIdOf(n);
  const { rows } = await db.query(
    `INSERT INTO ${TABLES.notifications} (source, group_id, payload, received_at, next_attempt_at)
     VALUES ($1, $2, $3::jsonb, now() + make_interval(secs => $4), now() + make_interval(secs => $4)) RETURNING id`,
    [n.source, groupId, JSON.stringify(n), (opts.dueInMs ?? 0) / 1000],
  );
  return { id: Number(z.object({ id: z.union([z.string(), z.number()]) }).parse(rows[0]).id), groupId };
}

const ts = z.union([z.date(), z.null()]).transform((d) => (d === null ? null : d.getTime()));
const requiredTs = z.date().transform((d) => d.getTime());

const silenceSchema = z.object({
  source: z.enum(['alertmanager', 'vigil']),
  ids: z.array(z.string()),
  createdBy: z.string(),
  endsAt: z.number(),
  comment: z.string(),
  matchers: z.string(),
}) satisfies z.ZodType<GroupSilence>;

const groupRow = z.object({
  group_id: z.string(),
  source: z.enum(['alertmanager', 'vigil']),
  group_key: z.string(),
  receiver: z.string(),
  channel: z.string(),
  severity: z.string(),
  status: z.enum(['firing', 'resolved']),
  state: z.object({
    alerts: z.record(z.string(), notificationSchema.shape.alerts.element),
    groupLabels: z.record(z.string(), z.string()),
    commonLabels: z.record(z.string(), z.string()),
    commonAnnotations: z.record(z.string(), z.string()),
    externalURL: z.string().nullable(),
  }),
  epoch: z.number().int(),
  version: z.number().int(),
  fired_at: requiredTs,
  resolved_at: ts,
  flaps: z.number().int(),
  last_reply_at: ts,
  acked_by: z.string().nullable(),
  acked_at: ts,
  escalated_at: ts,
  message_key: z.string().nullable(),
  last_notification_id: z.union([z.string(), z.number()]).transform(Number),
  arrived_at: requiredTs,
  storm_id: z.union([z.string(), z.number(), z.null()]).transform((v) => (v === null ? null : Number(v))),
  attention_since: ts,
  silence: silenceSchema.nullable(),
});

/** A row of `alert_groups`, validated: it may have been written by another version of Vigil. */
export function groupFromRow(row: unknown): AlertGroup {
  const r = groupRow.parse(row);
  return {
    groupId: r.group_id,
    source: r.source,
    groupKey: r.group_key,
    receiver: r.receiver,
    channel: r.channel,
    severity: r.severity,
    status: r.status,
    view: r.state satisfies GroupView,
    epoch: r.epoch,
    version: r.version,
    firedAt: r.fired_at,
    resolvedAt: r.resolved_at,
    flaps: r.flaps,
    lastReplyAt: r.last_reply_at,
    ackedBy: r.acked_by,
    ackedAt: r.acked_at,
    escalatedAt: r.escalated_at,
    messageKey: r.message_key,
    lastNotificationId: r.last_notification_id,
    arrivedAt: r.arrived_at,
    stormId: r.storm_id,
    attentionSince: r.attention_since ?? r.arrived_at,
    silence: r.silence,
  };
}

export async function loadGroup(db: Queryable, groupId: string): Promise<AlertGroup | null> {
  const { rows } = await db.query(`SELECT * FROM ${TABLES.groups} WHERE group_id = $1`, [groupId]);
  return rows.length > 0 ? groupFromRow(rows[0]) : null;
}

const date = (ms: number | null) => (ms === null ? null : new Date(ms));

/** Insert or replace the group's row; only ever called under the group's lock. */
export async function saveGroup(db: Queryable, g: AlertGroup): Promise<void> {
  await db.query(
    `INSERT INTO ${TABLES.groups} (group_id, source, group_key, receiver, channel, severity, status, state, epoch, version, fired_at,
       resolved_at, flaps, last_reply_at, acked_by, acked_at, escalated_at, message_key, last_notification_id, arrived_at, storm_id,
       attention_since, silence, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23::jsonb, now())
     ON CONFLICT (group_id) DO UPDATE SET source = EXCLUDED.source, group_key = EXCLUDED.group_key, receiver = EXCLUDED.receiver,
       channel = EXCLUDED.channel, severity = EXCLUDED.severity, status = EXCLUDED.status, state = EXCLUDED.state, epoch = EXCLUDED.epoch,
       version = EXCLUDED.version, fired_at = EXCLUDED.fired_at, resolved_at = EXCLUDED.resolved_at, flaps = EXCLUDED.flaps,
       last_reply_at = EXCLUDED.last_reply_at, acked_by = EXCLUDED.acked_by, acked_at = EXCLUDED.acked_at,
       escalated_at = EXCLUDED.escalated_at, message_key = EXCLUDED.message_key,
       last_notification_id = EXCLUDED.last_notification_id, arrived_at = EXCLUDED.arrived_at, storm_id = EXCLUDED.storm_id,
       attention_since = EXCLUDED.attention_since, silence = EXCLUDED.silence, updated_at = now()`,
    [
      g.groupId,
      g.source,
      g.groupKey,
      g.receiver,
      g.channel,
      g.severity,
      g.status,
      JSON.stringify(g.view),
      g.epoch,
      g.version,
      new Date(g.firedAt),
      date(g.resolvedAt),
      g.flaps,
      date(g.lastReplyAt),
      g.ackedBy,
      date(g.ackedAt),
      date(g.escalatedAt),
      g.messageKey,
      g.lastNotificationId,
      new Date(g.arrivedAt),
      g.stormId,
      new Date(g.attentionSince),
      g.silence === null ? null : JSON.stringify(g.silence),
    ],
  );
}

// Deleted per statement: a first prune of a long-running install must not hold a lock for long.
const PRUNE_BATCH = 5000;

/**
 * Delete notifications applied more than `keepDays` ago, a batch at a time (housekeeping runs
 * again in seconds). Never one that is still to be applied. Returns how many went.
 */
export async function pruneNotifications(db: Queryable, keepDays: number, now: number): Promise<number> {
  const { rows } = await db.query(
    `DELETE FROM ${TABLES.notifications} WHERE id IN (
       SELECT id FROM ${TABLES.notifications} WHERE processed_at IS NOT NULL AND processed_at < $1 ORDER BY processed_at LIMIT ${PRUNE_BATCH})
     RETURNING id`,
    [new Date(now - keepDays * 86_400_000)],
  );
  return rows.length;
}

/** Serialise every change of one group (processor, clicks) for the rest of the transaction. */
export async function lockGroup(db: Queryable, groupId: string): Promise<void> {
  await db.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`vigil.alert_group:${groupId}`]);
}

/**
 * Groups firing now, most severe first (the known ranking, then other severities in byte order),
 * then oldest first (for /alerts). Ranked in SQL so the LIMIT keeps the most severe.
 */
export async function firingGroups(db: Queryable, severity?: string): Promise<AlertGroup[]> {
  const { rows } = await db.query(
    `SELECT * FROM ${TABLES.groups} WHERE status = 'firing' ${severity ? 'AND severity = $2' : ''}
     ORDER BY array_position($1::text[], severity) NULLS LAST, severity COLLATE "C", fired_at LIMIT 200`,
    severity ? [RANK, severity] : [RANK],
  );
  return rows.map(groupFromRow);
}

/** The severities groups fire with now: /alerts knows them even when no config names them. */
export async function firingSeverities(db: Queryable): Promise<string[]> {
  const { rows } = await db.query(`SELECT DISTINCT severity FROM ${TABLES.groups} WHERE status = 'firing'`);
  return rows.map((r) => z.object({ severity: z.string() }).parse(r).severity);
}

/** A stored notification as the processor takes it. */
export interface DueNotification {
  id: string;
  group_id: string;
  payload: unknown;
  attempts: number;
  received_at: Date;
}

/**
 * The oldest notification due now, locked for the caller's transaction (SKIP LOCKED: replicas take
 * different ones). Not one ahead of an older notification of its group that failed and waits to be
 * retried, for that one's first `orderedRetries` retries: a group's notifications apply in the
 * order they came, and past those one bad row no longer holds its group back.
 */
export async function claimDueNotification(db: Queryable, orderedRetries: number): Promise<DueNotification | undefined> {
  const { rows } = await db.query(
    `SELECT id, group_id, payload, attempts, received_at FROM ${TABLES.notifications} n
     WHERE processed_at IS NULL AND next_attempt_at <= now()
       AND NOT EXISTS (SELECT 1 FROM ${TABLES.notifications} o
                       WHERE o.group_id = n.group_id AND o.processed_at IS NULL AND o.attempts >= 1 AND o.attempts <= $1 AND o.id < n.id)
     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [orderedRetries],
  );
  return rows[0] as DueNotification | undefined;
}
