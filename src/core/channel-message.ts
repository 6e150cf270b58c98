import type { Reply, RichText } from './reply.ts';

/**
 * A message Vigil starts itself in a channel (an alert group, an approval request, a storm
 * summary, a reply in a thread), transport-neutral: mentions and channel references are ids in
 * RichText, and `src/slack` renders it. Either a whole Reply, or a short text.
 */
export type ChannelMessage =
  | {
      reply: Reply;
      /** Vigil's own words above the reply, e.g. the on-call mention and an escalation banner; they notify. */
      lead?: RichText;
    }
  | {
      text: RichText;
      /** Shown after the text as it is, in monospace (an action's output). */
      code?: string;
    };
