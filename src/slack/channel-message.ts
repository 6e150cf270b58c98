import type { ChannelMessage } from '../core/channel-message.ts';
import { clip, escapeMrkdwn, LIMITS, renderBlocks, richMrkdwn, type Block } from './blocks.ts';
import type { OutboxMessage } from './outbox/types.ts';

/**
 * A message Vigil starts itself, as Slack takes it. A lead (mentions, a banner) goes first, in
 * the notification text too, so the people it names are notified; a short text is escaped with
 * its references drawn, and output goes in a code block (escaped: it is foreign text).
 */
export function renderChannelMessage(message: ChannelMessage): OutboxMessage {
  if ('reply' in message) {
    const { text, blocks } = renderBlocks(message.reply, 'in_channel');
    const lead = message.lead === undefined ? '' : richMrkdwn(message.lead);
    if (!lead) return { text, blocks };
    const first: Block = { type: 'section', text: { type: 'mrkdwn', text: clip(lead, LIMITS.sectionText) } };
    return { text: clip(`${lead} ${text}`, LIMITS.fallbackText), blocks: [first, ...blocks] };
  }
  const text = richMrkdwn(message.text);
  return { text: message.code ? `${text}\n\`\`\`\n${escapeMrkdwn(message.code)}\n\`\`\`` : text };
}
