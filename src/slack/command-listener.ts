import type { App } from '@slack/bolt';
import { z } from 'zod';
import type { Dispatcher, DispatchResult } from '../core/dispatch.ts';
import { renderBlocks } from './blocks.ts';
import type { ResponseUrlPoster } from './response-url.ts';

/** The fields of a slash-command payload Vigil relies on; anything else Slack sends is ignored. */
const slashCommandSchema = z.object({
  command: z.string().regex(/^\/[\w-]{1,31}$/),
  text: z.string().max(4000).default(''),
  user_id: z.string().min(1),
  user_name: z.string().optional(),
  channel_id: z.string().optional(),
  team_id: z.string().optional(),
  response_url: z.url().optional(),
});

export interface CommandListenerOptions {
  dispatcher: Dispatcher;
  /** Past this, ack with "working…" and answer through response_url. */
  ackAfterMs: number;
  visibility: 'ephemeral' | 'in_channel';
  logError: (message: string) => void;
  /** Posts deferred answers: retried, never to a host that is not Slack's, never redirected. */
  responseUrls: ResponseUrlPoster;
}

const WORKING = Symbol('working');

/**
 * One listener for every slash command: the dispatcher knows the names, so a command renamed in
 * the Slack app still reaches help instead of silence. Always acks within `ackAfterMs`.
 */
export function registerCommandListener(app: App, opts: CommandListenerOptions): void {
  app.command(/.*/, async ({ body, ack }) => {
    // The response_url's 30 minutes run from here, not from when the answer is ready.
    const receivedAt = Date.now();
    const parsed = slashCommandSchema.safeParse(body);
    if (!parsed.success) {
      await ack({ response_type: 'ephemeral', text: 'Vigil could not read this command payload.' });
      opts.logError(`bad slash command payload: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
      return;
    }
    const cmd = parsed.data;
    const work = opts.dispatcher.dispatch(cmd.command, cmd.text, {
      surface: 'slack',
      userId: cmd.user_id,
      ...(cmd.user_name ? { userName: cmd.user_name } : {}),
      ...(cmd.channel_id ? { channelId: cmd.channel_id } : {}),
      ...(cmd.team_id ? { teamId: cmd.team_id } : {}),
    });
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<typeof WORKING>((resolve) => {
      timer = setTimeout(() => resolve(WORKING), opts.ackAfterMs);
    });
    const first = await Promise.race([work, slow]);
    clearTimeout(timer);
    if (first !== WORKING) {
      await ack(message(first, opts.visibility));
      return;
    }
    await ack({ response_type: 'ephemeral', text: `:hourglass_flowing_sand: Working on ${cmd.command}…` });
    const result = await work;
    // Not Bolt's respond(): it posts once, to whatever URL the payload names, following redirects.
    // The poster logs and counts how it ended; a lost answer is its log line and metric.
    await opts.responseUrls.post(cmd.response_url, { ...message(result, opts.visibility), replace_original: false }, receivedAt, cmd.command);
  });
}

function message(result: DispatchResult, visibility: 'ephemeral' | 'in_channel') {
  const { text, blocks, response_type } = renderBlocks(result.reply, visibility);
  return { text, blocks, response_type };
}
