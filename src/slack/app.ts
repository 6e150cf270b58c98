import { App, SocketModeReceiver } from '@slack/bolt';
import type { Logger } from '../log.ts';
import type { SlackMode } from '../config/load.ts';
import { EmbeddedHttpReceiver } from './receiver.ts';
import type { ReplayGuard } from './replay-guard.ts';
import { slackLibraryLogger } from './library-logger.ts';

export interface SlackApp {
  app: App;
  /** Present in HTTP mode: the HTTP server hands `/slack/events` requests to it. */
  receiver: EmbeddedHttpReceiver | null;
}

export interface SlackAppOptions {
  mode: Exclude<SlackMode, { kind: 'none' }>;
  slackApiUrl: string | undefined;
  log: Logger;
  /** Skip `auth.test` at start (benchmarks pass ids they already know). */
  botIdentity?: { botId: string; botUserId: string };
  /** HTTP mode: signatures already run, answered without running again. */
  replayGuard?: ReplayGuard;
}

/**
 * Build the Bolt app for HTTP (our own receiver inside Vigil's HTTP server) or Socket Mode.
 * Initialisation (`auth.test`) is deferred to `app.init()` so the caller decides when to fail.
 */
export function createSlackApp(opts: SlackAppOptions): SlackApp {
  const logger = slackLibraryLogger(opts.log, 'bolt');
  const clientOptions = {
    ...(opts.slackApiUrl ? { slackApiUrl: opts.slackApiUrl } : {}),
    // Slack's default retries for ~30 minutes; an on-call reply that late is worse than an error.
    retryConfig: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5000 },
  };
  const identity = opts.botIdentity ?? {};
  if (opts.mode.kind === 'socket') {
    // Built here rather than by `socketMode: true` so `apps.connections.open` honours SLACK_API_URL too.
    const socketReceiver = new SocketModeReceiver({
      appToken: opts.mode.appToken,
      logger,
      installerOptions: { clientOptions },
    });
    const app = new App({ token: opts.mode.botToken, receiver: socketReceiver, logger, clientOptions, deferInitialization: true, convoStore: false, ...identity });
    return { app, receiver: null };
  }
  const receiver = new EmbeddedHttpReceiver(opts.mode.signingSecret, {
    rejected: (reason) => opts.log.warn({ reason }, 'slack request rejected'),
    failed: (message) => opts.log.error({ message }, 'slack request failed'),
  }, Date.now, opts.replayGuard ?? null);
  // No conversation store: Vigil keeps no per-conversation state, and Bolt's default builds an Error per request.
  const app = new App({ token: opts.mode.botToken, receiver, logger, clientOptions, deferInitialization: true, convoStore: false, ...identity });
  return { app, receiver };
}
