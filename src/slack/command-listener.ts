import type { App } from '@slack/bolt';
import { z } from 'zod';
import type { Dispatcher, DispatchResult } from '../core/dispatch.ts';
import { renderMessage } from './blocks.ts';
import type { ResponseUrlPoster } from './response-url.ts';
import { plainMentions } from './mentions.ts';

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

type Ack = (response?: unknown) => Promise<void>;

/**
 * One handler for every slash command: the dispatcher knows the names, so a command renamed in
 * the Slack app still reaches help instead of silence. Always acks within `ackAfterMs`.
 *
 * Lean on purpose, since every slash command pays for it before Slack hears back:
 * - it is a global middleware, not an `app.command` listener: Bolt runs every listener's chain for
 *   every payload (the action and view listeners too), and a slash command handled here, without
 *   calling `next()`, skips all of them; anything else goes on to the listeners;
 * - one timer and no Promise.race per command;
 * - a reply handed out again (/health from one snapshot, help) is rendered once (`renderMessage`).
 */
export function registerCommandListener(app: App, opts: CommandListenerOptions): void {
  app.use(async (args) => {
    const body = args.body as Record<string, unknown>;
    // What Bolt's own onlyCommands looks at; a command payload always comes with ack().
    if (body.command === undefined || !('ack' in args)) return args.next();
    await handleCommand(body, args.ack as Ack, opts);
  });
}

async function handleCommand(body: Record<string, unknown>, ack: Ack, opts: CommandListenerOptions): Promise<void> {
  // The response_url's 30 minutes run from here, not from when the answer is ready.
  const receivedAt = Date.now();
  const parsed = slashCommandSchema.safeParse(body);
  if (!parsed.success) {
    await ack({ response_type: 'ephemeral', text: 'Vigil could not read this command payload.' });
    opts.logError(`bad slash command payload: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
    return;
  }
  const cmd = parsed.data;
  const work = opts.dispatcher
    .dispatch(cmd.command, plainMentions(cmd.text), {
      surface: 'slack',
      userId: cmd.user_id,
      ...(cmd.user_name ? { userName: cmd.user_name } : {}),
      ...(cmd.channel_id ? { channelId: cmd.channel_id } : {}),
      ...(cmd.team_id ? { teamId: cmd.team_id } : {}),
    })
    // No answer before its audit event is safe: a replica killed right after answering loses no row.
    .then(async (result) => {
      await result.recorded;
      return result;
    });
  // Slow answers are acked with "working…" when the timer fires and posted once ready.
  let deferred = false;
  const timer = setTimeout(() => {
    deferred = true;
    ack({ response_type: 'ephemeral', text: `:hourglass_flowing_sand: Working on ${cmd.command}…` }).catch((err: unknown) =>
      opts.logError(`could not ack ${cmd.command}: ${err instanceof Error ? err.message : String(err)}`),
    );
  }, opts.ackAfterMs);
  let result: DispatchResult;
  try {
    result = await work;
  } finally {
    clearTimeout(timer);
  }
  if (!deferred) {
    await ack(renderMessage(result.reply, opts.visibility));
    return;
  }
  // Not Bolt's respond(): it posts once, to whatever URL the payload names, following redirects.
  // The poster logs and counts how it ended; a lost answer is its log line and metric.
  await opts.responseUrls.post(cmd.response_url, { ...renderMessage(result.reply, opts.visibility), replace_original: false }, receivedAt, cmd.command);
}
