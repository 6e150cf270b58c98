import type { WebClient } from '@slack/web-api';
import { z } from 'zod';

/**
 * Vigil marks every message it posts with Slack message metadata naming its outbox key, so a
 * post whose answer was lost (a reset after Slack accepted it, a worker killed right after, a job
 * Redis lost) can be found in the channel before it is posted again.
 */
export const METADATA_EVENT_TYPE = 'vigil_outbox';

export function keyMetadata(key: string): { event_type: string; event_payload: { key: string } } {
  return { event_type: METADATA_EVENT_TYPE, event_payload: { key } };
}

const page = z.object({
  messages: z.array(z.object({ ts: z.string(), metadata: z.object({ event_type: z.string(), event_payload: z.record(z.string(), z.unknown()).optional() }).optional() }).loose()).default([]),
  response_metadata: z.object({ next_cursor: z.string().optional() }).loose().optional(),
});

// A post is looked for among the messages since it was enqueued (a little before, for clocks):
// a few pages at most, so one lookup stays within a second or two even in a busy channel.
const PAGE_SIZE = 200;
const MAX_PAGES = 3;
const CLOCK_SLACK_S = 60;

/**
 * The ts of the message posted under `key` in `channel` (in the thread of `threadTs` for a reply)
 * since `sinceMs`, or null when there is none. Throws when Slack cannot be asked (then posting is
 * the lesser evil: a message twice rather than never).
 */
export async function findPostedByKey(client: WebClient, channel: string, key: string, sinceMs: number, threadTs?: string): Promise<string | null> {
  const oldest = (Math.floor(sinceMs / 1000) - CLOCK_SLACK_S).toFixed(6);
  let cursor: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const args = { channel, oldest, limit: PAGE_SIZE, include_all_metadata: true, ...(threadTs ? { ts: threadTs } : {}), ...(cursor ? { cursor } : {}) };
    const answer = page.parse(await client.apiCall(threadTs ? 'conversations.replies' : 'conversations.history', args));
    const found = answer.messages.find((m) => m.metadata?.event_type === METADATA_EVENT_TYPE && m.metadata.event_payload?.key === key);
    if (found) return found.ts;
    cursor = answer.response_metadata?.next_cursor || undefined;
    if (!cursor) return null;
  }
  return null;
}
