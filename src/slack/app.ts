import { App, LogLevel, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../log.ts';
import type { SlackMode } from '../config/load.ts';
import { EmbeddedHttpReceiver } from './receiver.ts';
import { scrubSecrets } from '../core/errors.ts';

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
}

/**
 * Build the Bolt app for HTTP (our own receiver inside Vigil's HTTP server) or Socket Mode.
 * Initialisation (`auth.test`) is deferred to `app.init()` so the caller decides when to fail.
 */
export function createSlackApp(opts: SlackAppOptions): SlackApp {
  const logger = boltLogger(opts.log);
  const clientOptions = {
    ...(opts.slackApiUrl ? { slackApiUrl: opts.slackApiUrl.endsWith('/') ? opts.slackApiUrl : `${opts.slackApiUrl}/` } : {}),
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
    const app = new App({ token: opts.mode.botToken, receiver: socketReceiver, logger, clientOptions, deferInitialization: true, ...identity });
    return { app, receiver: null };
  }
  const receiver = new EmbeddedHttpReceiver(opts.mode.signingSecret, {
    rejected: (reason) => opts.log.warn({ reason }, 'slack request rejected'),
    failed: (message) => opts.log.error({ message }, 'slack request failed'),
  });
  const app = new App({ token: opts.mode.botToken, receiver, logger, clientOptions, deferInitialization: true, ...identity });
  return { app, receiver };
}

/** Bolt logs through pino at our level instead of its own console logger. */
function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'bolt' });
  const text = (args: unknown[]) => scrubSecrets(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  return {
    debug: (...args) => child.debug(text(args)),
    info: (...args) => child.info(text(args)),
    warn: (...args) => child.warn(text(args)),
    error: (...args) => child.error(text(args)),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}
