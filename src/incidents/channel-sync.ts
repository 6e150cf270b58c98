import type pg from 'pg';
import type { AuditChain } from '../audit/chain.ts';
import { loadGroup } from '../alerts/store.ts';
import { groupTitle } from '../alerts/message.ts';
import type { AlertGroup } from '../alerts/group.ts';
import { describeError } from '../core/errors.ts';
import type { Link, RichText } from '../core/reply.ts';
import { inTransaction } from '../db/transaction.ts';
import type { Logger } from '../log.ts';
import type { IncidentChannels } from '../slack/incident-channels.ts';
import type { Outbox } from '../slack/outbox/types.ts';
import type { UserGroupReader } from '../slack/user-groups.ts';
import { channelNameAttempt } from './channel-name.ts';
import { alertThreadMessage, announcementMessage, incidentKeys, openingMessage } from './messages.ts';
import { createPollLoop, type PollLoop } from './poll-loop.ts';
import { incidentFromRow, INCIDENT_TABLES, linksOf, type Incident } from './store.ts';
import { incidentSubject, loadIncidentRecord } from './timeline-source.ts';
import { markRelayed } from './relay.ts';

export interface ChannelSyncDeps {
  pool: pg.Pool;
  channels: IncidentChannels;
  outbox: Outbox;
  audit: AuditChain;
  userGroups: UserGroupReader | null;
  announceChannel: string;
  messageLink: (key: string) => Promise<string | null>;
  log: Logger;
  /** A channel was made: the relay may start showing the timeline in it. */
  onChannel?: () => void;
  /** Shows these alert groups' messages again, now linking to their incident's channel. */
  refreshAlertMessages?: (groupIds: readonly string[]) => Promise<void>;
  pollMs?: number;
  /** Whether Vigil's state database is migrated and answering (the loop waits for it). */
  ready?: () => Promise<boolean>;
}

// How long one replica holds an incident while it talks to Slack; a crash frees it after this.
const LEASE = '30 seconds';
// After a failure (Slack away, a missing scope) the incident is tried again this much later.
const RETRY = '15 seconds';
// Names tried before giving up for this round: inc-…, inc-…-2, … inc-…-10.
const MAX_NAME_ATTEMPTS = 10;

/** What the topic says; stored once set, so a change of lead, severity or status sets it again. */
const topicKey = (i: Pick<Incident, 'severity' | 'lead' | 'status' | 'title'>) => `${i.severity}|${i.lead}|${i.status}|${i.title}`;
const TOPIC_KEY_SQL = `severity || '|' || lead || '|' || status || '|' || title`;

/** The marker in an incident channel's purpose: how Vigil knows the channel is this incident's. */
export const channelMarker = (id: number) => `vigil-incident-${id}`;

/**
 * Brings Slack in line with each incident's row: the channel exists (its id recorded), carries
 * Vigil's marker, has everyone it should in it, and its topic says the severity, lead and status.
 * The row is the truth; every step is safe to repeat, so a crash anywhere only repeats a step. A
 * replica takes an incident with a short lease (no transaction is held across Slack calls).
 */
export function createChannelSync(deps: ChannelSyncDeps): PollLoop & { syncOnce(): Promise<boolean> } {
  const { pool, channels, log } = deps;

  async function claim(): Promise<Incident | null> {
    const { rows } = await pool.query(
      `UPDATE ${INCIDENT_TABLES.incidents} SET sync_until = now() + interval '${LEASE}'
        WHERE id = (SELECT id FROM ${INCIDENT_TABLES.incidents}
                     WHERE (sync_until IS NULL OR sync_until < now())
                       AND (channel_id IS NULL OR NOT purpose_set OR NOT (invite_users <@ invited) OR topic_set IS DISTINCT FROM ${TOPIC_KEY_SQL})
                     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING *`,
    );
    return rows.length > 0 ? incidentFromRow(rows[0]) : null;
  }

  async function syncOnce(): Promise<boolean> {
    const claimed = await claim();
    if (!claimed) return false;
    let inc = claimed;
    try {
      if (inc.channelId === null) inc = await createChannel(inc);
      const channel = inc.channelId as string;
      if (!inc.purposeSet) await channels.setPurpose(channel, purposeOf(inc));
      const pending = inc.inviteUsers.filter((u) => !inc.invited.includes(u));
      const settled = pending.length > 0 ? await channels.invite(channel, pending) : [];
      const key = topicKey(inc);
      if (inc.topicSet !== key) await channels.setTopic(channel, topicOf(inc));
      await pool.query(
        `UPDATE ${INCIDENT_TABLES.incidents} SET purpose_set = true, invited = (SELECT array_agg(DISTINCT u) FROM unnest(invited || $2::text[]) AS u),
           topic_set = $3, sync_until = NULL, sync_error = NULL WHERE id = $1`,
        [inc.id, settled, key],
      );
    } catch (err) {
      const why = describeError(err).slice(0, 500);
      log.warn({ incident: inc.id, err: why }, 'incidents: the incident channel is not in line with Slack yet; trying again shortly');
      await pool.query(`UPDATE ${INCIDENT_TABLES.incidents} SET sync_until = now() + interval '${RETRY}', sync_error = $2 WHERE id = $1`, [inc.id, why]);
    }
    return true;
  }

  /** Create the channel (or find the one made before a crash), then record it and open it in one transaction. */
  async function createChannel(inc: Incident): Promise<Incident> {
    let attempt = inc.nameAttempt;
    let id: string | null = null;
    for (; attempt < inc.nameAttempt + MAX_NAME_ATTEMPTS && id === null; attempt++) {
      const name = channelNameAttempt(inc.channelName, attempt);
      const made = await channels.create(name);
      if (made.kind === 'created') {
        id = made.id;
        // At once: the marker is how a retry after a crash recognises this channel as ours.
        await channels.setPurpose(id, purposeOf(inc));
        break;
      }
      const found = await channels.findByName(name);
      if (found && found.purpose.includes(`(${channelMarker(inc.id)})`)) {
        id = found.id;
        break;
      }
    }
    if (id === null) {
      await pool.query(`UPDATE ${INCIDENT_TABLES.incidents} SET name_attempt = $2 WHERE id = $1`, [inc.id, attempt]);
      throw new Error(`every channel name from ${inc.channelName} to ${channelNameAttempt(inc.channelName, attempt - 1)} is taken by another channel`);
    }
    const members = await groupMembers(inc.inviteGroups);
    const invite = [...new Set([...inc.inviteUsers, ...members])];
    const channelId = id;
    const opened = { ...inc, channelId, nameAttempt: attempt, purposeSet: true, inviteUsers: invite };
    const links = await linksOf(pool, inc.id);
    const groups = (await Promise.all(links.map((l) => loadGroup(pool, l.groupId)))).filter((g): g is AlertGroup => g !== null);
    const groupLinks = await messageLinks(groups);
    const recorded = await inTransaction(pool, async (client) => {
      const { rowCount } = await client.query(
        `UPDATE ${INCIDENT_TABLES.incidents} SET channel_id = $2, name_attempt = $3, purpose_set = true, invite_users = $4 WHERE id = $1 AND channel_id IS NULL`,
        [inc.id, channelId, attempt, invite],
      );
      if (rowCount === 0) return false;
      const send = deps.outbox.send;
      await send({ op: 'post', key: incidentKeys.opening(inc.id), channel: channelId, message: openingMessage(opened, groups, groupLinks, Date.now()), kind: 'incident' }, client);
      await send({ op: 'post', key: incidentKeys.announce(inc.id), channel: deps.announceChannel, message: announcementMessage(opened), kind: 'incident' }, client);
      for (const g of groups) {
        if (!g.messageKey) continue;
        await send({ op: 'post', key: incidentKeys.alertReply(inc.id, g.groupId, g.epoch), channel: g.channel, threadOf: g.messageKey, message: alertThreadMessage(opened), kind: 'incident' }, client);
      }
      // The opening message shows what happened so far: the channel's timeline lines start after it.
      const record = await loadIncidentRecord(client, opened);
      await markRelayed(client, inc.id, record.items.map((i) => i.key));
      await deps.audit.append(client, [
        { actorId: 'vigil', kind: 'incident.channel', subject: incidentSubject(inc.id), outcome: 'created', channel: channelId, details: { name: channelNameAttempt(inc.channelName, attempt) } },
      ]);
      return true;
    });
    // After the commit, so each message renders with the channel; one missed here (a crash) shows
    // it at its group's next change.
    if (recorded) await refreshAlerts(groups.filter((g) => g.messageKey !== null).map((g) => g.groupId));
    deps.onChannel?.();
    return opened;
  }

  async function refreshAlerts(groupIds: string[]): Promise<void> {
    if (!deps.refreshAlertMessages || groupIds.length === 0) return;
    await deps.refreshAlertMessages(groupIds).catch((err: unknown) => log.warn({ err: describeError(err) }, 'incidents: could not show the channel on the alert messages'));
  }

  async function groupMembers(groups: readonly string[]): Promise<string[]> {
    const all: string[] = [];
    for (const g of groups) {
      if (!deps.userGroups) break;
      try {
        all.push(...(await deps.userGroups.members(g)));
      } catch (err) {
        log.warn({ group: g, err: describeError(err) }, 'incidents: cannot list a user group to invite; its members are not invited');
      }
    }
    return all;
  }

  async function messageLinks(groups: readonly AlertGroup[]): Promise<Link[]> {
    const links: Link[] = [];
    for (const g of groups.slice(0, 5)) {
      const url = g.messageKey ? await deps.messageLink(g.messageKey).catch(() => null) : null;
      if (url) links.push({ label: `Open ${groupTitle(g)}`.slice(0, 75), url });
    }
    return links;
  }

  const loop = createPollLoop({ name: 'incident-channels', pollMs: deps.pollMs ?? 1000, step: syncOnce, log, ...(deps.ready ? { ready: deps.ready } : {}) });
  return { ...loop, syncOnce };
}

function purposeOf(inc: Incident): string {
  return `Incident ${inc.id}: ${inc.title}`.slice(0, 200) + ` (${channelMarker(inc.id)})`;
}

function topicOf(inc: Incident): RichText {
  return [`${inc.status === 'resolved' ? '✅ RESOLVED · ' : ''}${inc.severity.toUpperCase()} · lead `, { user: inc.lead }, ` · ${inc.title}`];
}
