import { escapeMrkdwn, renderBlocks } from '../slack/blocks.ts';
import type { OutboxMessage } from '../slack/outbox/types.ts';
import type { AlertGroup } from './group.ts';
import { groupReply } from './message.ts';

/**
 * A group's living message as Slack shows it. The first post of a severity with a mention
 * (e.g. critical → @oncall) starts with it, so the people on call get a notification; updates do
 * not mention again (Slack does not notify on edits anyway).
 */
export function groupMessage(g: AlertGroup, now: number, mention?: string): OutboxMessage {
  const { text, blocks } = renderBlocks(groupReply(g, now), 'in_channel');
  if (!mention) return { text, blocks };
  // A user group id from the config (validated as S…), never from the alert.
  const ping = `<!subteam^${mention}>`;
  return { text: `${ping} ${text}`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: ping } }, ...blocks] };
}

/** A short thread reply (alerts joining or resolving); the lines come from alert labels: escaped. */
export function replyMessage(lines: string[]): OutboxMessage {
  const text = lines.slice(0, 20).map(escapeMrkdwn).join('\n') + (lines.length > 20 ? `\n…and ${lines.length - 20} more` : '');
  return { text };
}
