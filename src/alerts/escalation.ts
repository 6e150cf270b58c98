import type pg from 'pg';
import { inTransaction } from '../db/transaction.ts';
import { applyEscalation } from './group-transitions.ts';
import type { AlertProcessor } from './processor.ts';
import type { AlertsConfig } from './routing.ts';
import { loadGroup, lockGroup, saveGroup, TABLES } from './store.ts';

type EscalationConfig = NonNullable<AlertsConfig['escalation']>;

/**
 * Housekeeping: escalate every group of an escalating severity that nobody acknowledged within
 * `afterMinutes` of Vigil showing it (or of it firing again, or of an un-acknowledge), unless a
 * silence covers it. Each group is decided under its lock, so an Acknowledge
 * that lands at the same moment wins and nothing is escalated twice.
 */
export async function escalateOverdue(pool: pg.Pool, processor: AlertProcessor, cfg: EscalationConfig, now: number): Promise<number> {
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
      if (!due) return;
      await saveGroup(client, await processor.sendIntents(client, due.next, due.intents, now));
      escalated += 1;
    });
  }
  return escalated;
}
