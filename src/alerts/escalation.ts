import type pg from 'pg';
import { inTransaction } from '../db/transaction.ts';
import { applyEscalation } from './group-transitions.ts';
import type { AlertProcessor } from './processor.ts';
import type { AlertsConfig } from './routing.ts';
import { loadGroup, lockGroup, saveGroup, TABLES } from './store.ts';
import { stormEscalationMessage } from './group-messages.ts';
import { claimStormEscalation } from './storm.ts';
import type { Queryable } from '../db/queryable.ts';
import type { Outbox } from '../slack/outbox/types.ts';

type EscalationConfig = NonNullable<AlertsConfig['escalation']>;

/**
 * Housekeeping: escalate every group of an escalating severity that nobody acknowledged within
 * `afterMinutes` of Vigil showing it (or of it firing again, or of an un-acknowledge), unless a
 * silence covers it. Each group is decided under its lock, so an Acknowledge that lands at the
 * same moment wins and nothing is escalated twice. Groups counted in a storm's summary are
 * escalated together: one message and one mention per storm, however many there are.
 */
export async function escalateOverdue(pool: pg.Pool, processor: AlertProcessor, outbox: Outbox | null, cfg: EscalationConfig, now: number): Promise<number> {
  const afterMs = cfg.afterMinutes * 60_000;
  const { rows } = await pool.query(
    `SELECT group_id FROM ${TABLES.groups}
     WHERE status = 'firing' AND acked_at IS NULL AND escalated_at IS NULL AND severity = ANY($1)
       AND coalesce(attention_since, arrived_at) <= $2 AND (silence IS NULL OR (silence->>'endsAt')::float8 <= $3)
     ORDER BY arrived_at LIMIT 100`,
    [cfg.severities, new Date(now - afterMs), now],
  );
  let escalated = 0;
  for (const { group_id: groupId } of rows as Array<{ group_id: string }>) {
    await inTransaction(pool, async (client) => {
      await lockGroup(client, groupId);
      const group = await loadGroup(client, groupId);
      const due = group ? applyEscalation(group, now, afterMs, cfg.severities) : null;
      if (!due || !group) return;
      if (group.stormId !== null && group.messageKey === null) {
        await escalateStorm(client, outbox, group.stormId, cfg, now);
        // Marked escalated (the summary shows it); the storm's one message did the paging.
        await saveGroup(client, await processor.sendIntents(client, due.next, [{ kind: 'update' }], now));
      } else {
        await saveGroup(client, await processor.sendIntents(client, due.next, due.intents, now));
      }
      escalated += 1;
    });
  }
  return escalated;
}

/**
 * The storm's escalation, once: the first overdue group of a storm claims it (in the group's
 * transaction, so a rollback frees it again and the outbox key keeps a retry from posting twice).
 */
async function escalateStorm(db: Queryable, outbox: Outbox | null, stormId: number, cfg: EscalationConfig, now: number): Promise<void> {
  const storm = await claimStormEscalation(db, stormId, now);
  if (!storm || !outbox) return;
  const counted = await db.query(`SELECT count(*)::int AS n FROM ${TABLES.groups} WHERE storm_id = $1 AND status = 'firing' AND acked_at IS NULL AND severity = ANY($2)`, [
    stormId,
    cfg.severities,
  ]);
  const groups = (counted.rows[0] as { n: number } | undefined)?.n ?? 1;
  const message = stormEscalationMessage({ groups, minutes: Math.round(cfg.afterMinutes), channel: storm.channel, since: storm.startedAt, mention: cfg.mention });
  await outbox.send({ op: 'post', key: `alert-storm:${stormId}:escalation`, channel: cfg.channel, message, kind: 'alert', originAt: now }, db);
}
