import { escapeMrkdwn, renderBlocks, type Block } from '../slack/blocks.ts';
import type { OutboxMessage } from '../slack/outbox/types.ts';
import type { Button } from '../core/reply.ts';
import type { AlertGroup } from './group.ts';
import { groupReply } from './message.ts';

/** A user group id from the config (validated as S…), never from an alert: safe to send raw. */
const ping = (userGroup: string) => `<!subteam^${userGroup}>`;

/**
 * A group's living message as Slack shows it. The first post of a severity with a mention
 * (e.g. critical → @oncall) starts with it, so the people on call get a notification; updates do
 * not mention again (Slack does not notify on edits anyway). `banner` is a line of Vigil's own
 * above the message (the escalation copy says why it is there): mrkdwn built from config values
 * only, never from alert text, so it is sent as is.
 */
export function groupMessage(g: AlertGroup, now: number, opts: { mention?: string | undefined; banner?: string; actions?: readonly Button[] } = {}): OutboxMessage {
  const { text, blocks } = renderBlocks(groupReply(g, now, opts.actions), 'in_channel');
  const lead = [opts.mention ? ping(opts.mention) : '', opts.banner ?? ''].filter(Boolean).join(' ');
  if (!lead) return { text, blocks };
  const first: Block = { type: 'section', text: { type: 'mrkdwn', text: lead } };
  return { text: `${lead} ${text}`, blocks: [first, ...blocks] };
}

/** A short thread reply (alerts joining or resolving); the lines come from alert labels: escaped. */
export function replyMessage(lines: string[]): OutboxMessage {
  const text = lines.slice(0, 20).map(escapeMrkdwn).join('\n') + (lines.length > 20 ? `\n…and ${lines.length - 20} more` : '');
  return { text };
}

/** The thread reply that escalates: mentions on-call and says where the copy went. */
export function escalationReply(minutes: number, escalationChannel: string, mention: string | undefined): OutboxMessage {
  const who = mention ? `${ping(mention)} ` : '';
  return { text: `${who}⏰ Not acknowledged after ${minutes} min: escalated to <#${escalationChannel}>.` };
}
