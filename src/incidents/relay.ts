import type pg from 'pg';
import type { Queryable } from '../db/queryable.ts';
import { inTransaction } from '../db/transaction.ts';
import type { Logger } from '../log.ts';
import type { Outbox } from '../slack/outbox/types.ts';
import { incidentKeys, itemMessage } from './messages.ts';
import { createPollLoop, type PollLoop } from './poll-loop.ts';
import { describeError } from '../core/errors.ts';
import { incidentFromRow, INCIDENT_TABLES, linksOf, setAuditRange } from './store.ts';
import { loadIncidentRecord } from './timeline-source.ts';
import type { TimelineKind } from './timeline.ts';
import { writeupReply } from './writeup.ts';

// Repeated in the announcement channel's thread too: what people outside the incident follow.
const ANNOUNCED: ReadonlySet<TimelineKind> = new Set(['incident.update', 'incident.severity', 'incident.resolve']);

export interface RelayDeps {
  pool: pg.Pool;
  outbox: Outbox;
  /** incidents.announceChannel: updates and the resolution go to the announcement's thread there. */
  announceChannel: string;
  log: Logger;
  pollMs?: number;
  /** Whether Vigil's state database is migrated and answering (the loop waits for it). */
  ready?: () => Promise<boolean>;
  /** Shows these alert groups' messages again (a group was linked: its message links to the channel). */
  refreshAlertMessages?: (groupIds: readonly string[]) => Promise<void>;
}

/** Record timeline items as shown (without showing them): the opening message covers them. */
export async function markRelayed(db: Queryable, incidentId: number, keys: readonly string[]): Promise<string[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query(
    `INSERT INTO ${INCIDENT_TABLES.relayed} (incident_id, item_key) SELECT $1, k FROM unnest($2::text[]) AS k ON CONFLICT DO NOTHING RETURNING item_key`,
    [incidentId, keys],
  );
  return rows.map((r) => (r as { item_key: string }).item_key);
}

/**
 * Shows each incident's timeline in its channel as it happens: alerts of linked groups firing and
 * resolving, acknowledgements, actions, updates, changes of lead and severity, each once (by its
 * item key, recorded in the same transaction as the outbox message). Once resolved, the write-up
 * follows the last line, and the audit range it was built from is kept with the incident.
 * Replicas share incidents through row locks (SKIP LOCKED): each incident is relayed by one at a time.
 */
export function createRelay(deps: RelayDeps): PollLoop & { relayOnce(): Promise<boolean> } {
  const { pool } = deps;

  /** Relays what is new; resolves with whether a group was linked among it. */
  async function relayIncident(id: number): Promise<boolean> {
    return inTransaction(pool, async (client) => {
      const { rows } = await client.query(
        `SELECT * FROM ${INCIDENT_TABLES.incidents} WHERE id = $1 AND channel_id IS NOT NULL AND (status = 'open' OR audit_to IS NULL) FOR UPDATE SKIP LOCKED`,
        [id],
      );
      if (rows.length === 0) return false;
      const incident = incidentFromRow(rows[0]);
      const channel = incident.channelId as string;
      const record = await loadIncidentRecord(client, incident);
      const { rows: seen } = await client.query(`SELECT item_key FROM ${INCIDENT_TABLES.relayed} WHERE incident_id = $1`, [id]);
      const shown = new Set(seen.map((r) => (r as { item_key: string }).item_key));
      // In timeline order: the outbox keeps a channel's order, so the channel reads like the timeline.
      const fresh = record.items.filter((i) => !shown.has(i.key));
      for (const item of fresh) {
        await deps.outbox.send({ op: 'post', key: incidentKeys.item(id, item.key), channel, message: itemMessage(item), kind: 'incident', originAt: item.at }, client);
        if (ANNOUNCED.has(item.kind)) {
          const thread = { threadOf: incidentKeys.announce(id), channel: deps.announceChannel };
          await deps.outbox.send({ op: 'post', key: incidentKeys.announceItem(id, item.key), ...thread, message: itemMessage(item), kind: 'incident' }, client);
        }
      }
      await markRelayed(client, id, fresh.map((i) => i.key));
      if (incident.status === 'resolved') {
        await deps.outbox.send({ op: 'post', key: incidentKeys.writeup(id), channel, message: { reply: writeupReply(record) }, kind: 'incident' }, client);
        await setAuditRange(client, id, record.audit?.fromId ?? 0, record.audit?.toId ?? 0);
      }
      return fresh.some((i) => i.kind === 'incident.link');
    });
  }

  /** After the commit: the linked groups' messages show the incident's channel. */
  async function refreshLinked(id: number): Promise<void> {
    if (!deps.refreshAlertMessages) return;
    const groupIds = (await linksOf(pool, id)).map((l) => l.groupId);
    await deps.refreshAlertMessages(groupIds).catch((err: unknown) => deps.log.warn({ err: describeError(err) }, 'incidents: could not show the channel on the alert messages'));
  }

  async function relayOnce(): Promise<boolean> {
    const { rows } = await pool.query(`SELECT id FROM ${INCIDENT_TABLES.incidents} WHERE channel_id IS NOT NULL AND (status = 'open' OR audit_to IS NULL) ORDER BY id LIMIT 100`);
    for (const r of rows) {
      const id = Number((r as { id: string }).id);
      if (await relayIncident(id)) await refreshLinked(id);
    }
    // One pass per kick or poll: new items are looked for again at the next.
    return false;
  }

  const loop = createPollLoop({ name: 'incident-relay', pollMs: deps.pollMs ?? 1000, step: relayOnce, log: deps.log, ...(deps.ready ? { ready: deps.ready } : {}) });
  return { ...loop, relayOnce };
}
