import type { ChannelMessage } from '../core/channel-message.ts';
import type { Button, Ref, RichText } from '../core/reply.ts';
import type { AlertGroup } from './group.ts';
import { groupReply } from './message.ts';

/** The incident worked for a group's current firing, once it has a channel: its message links there. */
export interface GroupIncident {
  id: number;
  channelId: string;
}

// Lines of a thread reply listed one by one; the rest are counted.
const MAX_REPLY_LINES = 20;

/**
 * A group's living message. The first post of a severity with a mention (e.g. critical → @oncall)
 * leads with it, so the people on call get a notification; updates do not mention again (Slack
 * does not notify on edits anyway). `banner` is a line of Vigil's own above the message (the
 * escalation copy says why it is there).
 */
export function groupMessage(
  g: AlertGroup,
  now: number,
  opts: { mention?: string | undefined; banner?: RichText; actions?: readonly Button[]; incident?: GroupIncident | null } = {},
): ChannelMessage {
  const reply = groupReply(g, now, opts.actions, opts.incident ?? null);
  const lead: Array<string | Ref> = [];
  if (opts.mention) lead.push({ userGroup: opts.mention });
  if (opts.banner !== undefined) lead.push(...(lead.length > 0 ? [' '] : []), ...(typeof opts.banner === 'string' ? [opts.banner] : opts.banner));
  return lead.length > 0 ? { reply, lead } : { reply };
}

/**
 * A short thread reply (alerts joining or resolving; the lines come from alert labels), leading
 * with `mention` when the group needs someone again (it fired again, its silence ended).
 */
export function replyMessage(lines: string[], mention?: string): ChannelMessage {
  const more = lines.length > MAX_REPLY_LINES ? `\n…and ${lines.length - MAX_REPLY_LINES} more` : '';
  const text = lines.slice(0, MAX_REPLY_LINES).join('\n') + more;
  return { text: mention ? [{ userGroup: mention }, ' ', text] : text };
}

/** The thread reply that escalates: mentions on-call and says where the copy went. */
export function escalationReply(minutes: number, escalationChannel: string, mention: string | undefined): ChannelMessage {
  return { text: [...(mention ? [{ userGroup: mention }, ' '] : []), `⏰ Not acknowledged after ${minutes} min: escalated to `, { channel: escalationChannel }, '.'] };
}

/**
 * One escalation for a storm's overdue groups (they have no messages of their own to copy): how
 * many, where, since when, with the mention once.
 */
export function stormEscalationMessage(o: { groups: number; minutes: number; channel: string; since: number; mention: string | undefined }): ChannelMessage {
  const since = new Date(o.since).toISOString().slice(11, 16);
  return {
    text: [
      ...(o.mention ? [{ userGroup: o.mention }, ' '] : []),
      `⏰ Escalated: ${o.groups} alert group(s) counted in the alert storm in `,
      { channel: o.channel },
      ` (since ${since} UTC) were not acknowledged after ${o.minutes} min. The storm's summary lists them; /alerts lists every firing group.`,
    ],
  };
}

/** The escalation copy's banner: why it is here, and where the group's own message is. */
export function escalationBanner(minutes: number, groupChannel: string | null): RichText {
  return [`⏰ Escalated: not acknowledged after ${minutes} min`, ...(groupChannel === null ? [] : [' (in ', { channel: groupChannel }, ')']), '.'];
}
