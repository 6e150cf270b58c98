/** Reading what Vigil answered or posted, as a person in Slack would read it. */
import { blockText, type StoredMessage } from './slack-api-server.ts';
import type { SlackPostResult } from './slack-requests.ts';

/** An answer: the HTTP answer to a slash command, or a post to its response_url (deferred answers, clicks). */
export type Answer = SlackPostResult | { body: Record<string, unknown> };

/** The answer's top-level fields (response_type, text, blocks), however it came. */
export function answerBody(answer: Answer): Record<string, unknown> {
  return 'body' in answer ? answer.body : (answer.json ?? {});
}

/** What a person reads in an answer: its fallback text and its blocks. */
export function answerText(answer: Answer): string {
  const body = answerBody(answer);
  return `${String(body.text ?? '')}\n${blockText(body.blocks)}`;
}

/** The button labelled `label` on a message as it shows now (actions blocks), or a throw naming what it shows. */
export function buttonOn(message: StoredMessage, label: string): { action_id: string; value: string } {
  const button = (message.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string; text?: { text?: string } }> }>)
    .flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []))
    .find((e) => e.text?.text === label);
  if (!button?.action_id || !button.value) throw new Error(`no ${label} button on ${blockText(message.blocks)}`);
  return { action_id: button.action_id, value: button.value };
}
