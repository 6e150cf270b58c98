import type pg from 'pg';
import { z } from 'zod';
import type { Reply } from '../core/reply.ts';
import { STATE_SCHEMA } from '../db/migrate.ts';
import type { Queryable } from '../db/queryable.ts';
import { inTransaction } from '../db/transaction.ts';
import type { Outbox } from '../slack/outbox/types.ts';
import type { AlertGroup } from './group.ts';
import { groupTitle } from './message.ts';
import type { AlertsConfig } from './routing.ts';
import { groupFromRow, TABLES } from './store.ts';

const STORMS = `${STATE_SCHEMA}.alert_storms`;
const WINDOW_MS = 60_000;
// Every alert name of the storm gets a line: the table is packed into code blocks of 3000
// characters (about 60 lines each), so 600 lines stay well inside Slack's 50 blocks per message.
const MAX_LINES = 600;

type StormConfig = AlertsConfig['storm'];

export const stormKeys = {
  post: (id: number) => `alert-storm:${id}`,
  update: (id: number, version: number) => `alert-storm:${id}:v${version}`,
};

/**
 * Whether a group about to be posted in `channel` must be counted in the channel's storm summary
 * instead: yes while a storm is on, or when this would be more than `perMinute` new groups within
 * a minute (which starts one). Returns the storm's id, or null to post as usual.
 *
 * Decided from the last minute's arrivals, now: a storm whose channel has calmed down is ended
 * here, whatever stopped the housekeeping tick that would have ended it (a restart, a crash), so
 * the first alert after a quiet minute always gets a message of its own.
 */
export async function stormFor(db: Queryable, channel: string, groupId: string, cfg: StormConfig, now: number): Promise<number | null> {
  // Decided one group at a time per channel (until the caller commits): two processors counting
  // at once would both see room for one more and both post.
  await db.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`vigil.alert_channel:${channel}`]);
  await endCalmStorms(db, cfg, now, channel);
  const active = await activeStorm(db, channel);
  if (active !== null) {
    await markStormDirty(db, active);
    return active;
  }
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${TABLES.groups} WHERE channel = $1 AND arrived_at > $2 AND group_id <> $3`, [
    channel,
    new Date(now - WINDOW_MS),
    groupId,
  ]);
  if (z.object({ n: z.number() }).parse(rows[0]).n < cfg.perMinute) return null;
  // Two processors starting the same channel's storm: the partial unique index keeps one.
  await db.query(`INSERT INTO ${STORMS} (channel, started_at) VALUES ($1, $2) ON CONFLICT (channel) WHERE ended_at IS NULL DO NOTHING`, [channel, new Date(now)]);
  return activeStorm(db, channel);
}

async function activeStorm(db: Queryable, channel: string): Promise<number | null> {
  const { rows } = await db.query(`SELECT id FROM ${STORMS} WHERE channel = $1 AND ended_at IS NULL`, [channel]);
  return rows.length > 0 ? Number(z.object({ id: z.union([z.string(), z.number()]) }).parse(rows[0]).id) : null;
}

/**
 * End the storms (of `channel`, or all) that are at least a minute old and whose channel had fewer
 * than `perMinute` new groups in the last minute; their summaries are sent once more, as over.
 * Also run at start, before any notification is applied. Returns how many ended.
 */
export async function endCalmStorms(db: Queryable, cfg: StormConfig, now: number, channel?: string): Promise<number> {
  const { rows } = await db.query(
    `UPDATE ${STORMS} s SET ended_at = $1, dirty = true
     WHERE ended_at IS NULL AND started_at < $2 ${channel === undefined ? '' : 'AND channel = $4'}
       AND (SELECT count(*) FROM ${TABLES.groups} g WHERE g.channel = s.channel AND g.arrived_at > $2) < $3
     RETURNING id`,
    [new Date(now), new Date(now - WINDOW_MS), cfg.perMinute, ...(channel === undefined ? [] : [channel])],
  );
  return rows.length;
}

/** The storm's one escalation, claimed once (in the caller's transaction): its channel and start, or null when taken already. */
export async function claimStormEscalation(db: Queryable, stormId: number, now: number): Promise<{ channel: string; startedAt: number } | null> {
  const { rows } = await db.query(`UPDATE ${STORMS} SET escalated_at = $2 WHERE id = $1 AND escalated_at IS NULL RETURNING channel, started_at`, [stormId, new Date(now)]);
  const row = z.object({ channel: z.string(), started_at: z.date() }).safeParse(rows[0]);
  return row.success ? { channel: row.data.channel, startedAt: row.data.started_at.getTime() } : null;
}

/** A group counted in the storm changed: the summary is sent again at its next turn. */
export async function markStormDirty(db: Queryable, stormId: number): Promise<void> {
  await db.query(`UPDATE ${STORMS} SET dirty = true WHERE id = $1 AND closed_at IS NULL`, [stormId]);
}

const stormRow = z.object({
  id: z.union([z.string(), z.number()]).transform(Number),
  channel: z.string(),
  started_at: z.date(),
  ended_at: z.date().nullable(),
  summary_version: z.number().int(),
});

/**
 * Housekeeping: end storms whose channel calmed down (fewer than `perMinute` new groups in the
 * last minute), and send each changed summary, at most once per `summaryEverySeconds`. A storm is
 * closed once it ended and all its groups resolved: nothing is left for its summary to show.
 */
export async function refreshStorms(pool: pg.Pool, outbox: Outbox, cfg: StormConfig, now: number): Promise<number> {
  await endCalmStorms(pool, cfg, now);
  const due = await pool.query(
    `SELECT id FROM ${STORMS} WHERE closed_at IS NULL AND dirty AND (last_summary_at IS NULL OR last_summary_at <= $1) ORDER BY id`,
    [new Date(now - cfg.summaryEverySeconds * 1000)],
  );
  let sent = 0;
  for (const { id } of due.rows as Array<{ id: string }>) if (await sendSummary(pool, outbox, Number(id), now)) sent += 1;
  return sent;
}

function sendSummary(pool: pg.Pool, outbox: Outbox, id: number, now: number): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query(`SELECT id, channel, started_at, ended_at, summary_version FROM ${STORMS} WHERE id = $1 AND dirty FOR UPDATE SKIP LOCKED`, [id]);
    if (rows.length === 0) return false;
    const storm = stormRow.parse(rows[0]);
    const groups = (await client.query(`SELECT * FROM ${TABLES.groups} WHERE storm_id = $1`, [id])).rows.map(groupFromRow);
    const version = storm.summary_version + 1;
    const message = { reply: stormReply(storm.started_at.getTime(), storm.ended_at?.getTime() ?? null, groups, now) };
    // Keys carry the summary's version: a retry after a failed commit is delivered once.
    if (version === 1) await outbox.send({ op: 'post', key: stormKeys.post(id), channel: storm.channel, message, kind: 'alert' }, client);
    else await outbox.send({ op: 'update', key: stormKeys.update(id, version), ref: stormKeys.post(id), message, kind: 'alert' }, client);
    const allResolved = groups.every((g) => g.status === 'resolved');
    await client.query(
      `UPDATE ${STORMS} SET dirty = false, summary_version = $2, last_summary_at = $3::timestamptz,
         closed_at = CASE WHEN ended_at IS NOT NULL AND $4::boolean THEN $3::timestamptz ELSE NULL END
       WHERE id = $1`,
      [id, version, new Date(now), allResolved],
    );
    return true;
  });
}

/** The storm summary: every group it holds, counted by alert name and severity. */
export function stormReply(startedAt: number, endedAt: number | null, groups: AlertGroup[], now: number): Reply {
  const byName = new Map<string, { severity: string; name: string; firing: number; groups: number }>();
  let firingGroups = 0;
  for (const g of groups) {
    const firing = Object.values(g.view.alerts).filter((a) => a.status === 'firing').length;
    if (g.status === 'firing') firingGroups += 1;
    const key = `${g.severity}\u0000${groupTitle(g)}`;
    const entry = byName.get(key) ?? { severity: g.severity, name: groupTitle(g), firing: 0, groups: 0 };
    entry.firing += g.status === 'firing' ? firing : 0;
    entry.groups += 1;
    byName.set(key, entry);
  }
  const rank = (s: string) => ['critical', 'error', 'warning', 'info'].indexOf(s) >>> 0;
  const lines = [...byName.values()].sort((a, b) => rank(a.severity) - rank(b.severity) || b.firing - a.firing || a.name.localeCompare(b.name));
  const shown = lines.slice(0, MAX_LINES);
  const since = new Date(startedAt).toISOString().slice(11, 16);
  return {
    title: endedAt === null ? '🌩 Alert storm' : '🌤 Alert storm over',
    status: firingGroups > 0 ? 'fail' : 'ok',
    summary:
      endedAt === null
        ? `Since ${since} UTC more new alert groups arrived here than the channel's limit per minute: they are counted in this message instead of posted one by one. ${firingGroups} of ${groups.length} firing.`
        : `The storm that started at ${since} UTC has passed; its groups stay counted here until they resolve. ${firingGroups} of ${groups.length} still firing.`,
    sections: [
      {
        heading: 'Alerts in this storm',
        table: {
          columns: ['severity', 'alert', 'firing', 'groups'],
          rows: shown.map((l) => [l.severity, l.name, String(l.firing), String(l.groups)]),
          rowStatus: shown.map((l) => (l.firing > 0 ? 'fail' : 'ok')),
        },
      },
    ],
    notes: [
      ...(lines.length > shown.length ? [`${lines.length - shown.length} more alert names not listed.`] : []),
      `Updated ${new Date(now).toISOString().slice(11, 19)} UTC. /alerts lists every firing group.`,
    ],
    visibility: 'channel',
  };
}
