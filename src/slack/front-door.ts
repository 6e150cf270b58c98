import type { SlackMode } from '../config/load.ts';
import type { Dispatcher } from '../core/dispatch.ts';
import { describeError } from '../core/errors.ts';
import type { InteractionDispatcher } from '../core/interactions.ts';
import type { Route } from '../http/route.ts';
import type { Logger } from '../log.ts';
import { createSlackApp } from './app.ts';
import { registerCommandListener } from './command-listener.ts';
import { registerInteractionListener } from './interaction-listener.ts';
import { slackEventsRoute } from './receiver.ts';
import { createResponseUrlPoster } from './response-url.ts';
import type { Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import { createReplayGuard } from './replay-guard.ts';

export interface SlackFrontDoorOptions {
  mode: Exclude<SlackMode, { kind: 'none' }>;
  slackApiUrl: string | undefined;
  log: Logger;
  commands: Dispatcher;
  interactions: InteractionDispatcher;
  ackAfterMs: number;
  visibility: 'ephemeral' | 'in_channel';
  /** Skip `auth.test` (benchmarks pass ids they already know). */
  botIdentity?: { botId: string; botUserId: string };
  /** Where the front door's own metrics (response_url posts) are registered. */
  metrics?: Registry;
  /**
   * HTTP mode: where signatures already run are remembered across replicas (Vigil's own key
   * prefix on the fast-failing Redis). Without Redis, each replica remembers its own in memory.
   */
  replay?: { redis: Redis | null; keyPrefix: string };
}

/** Slack as a way in: slash commands and clicks reach the dispatchers, over HTTP or Socket Mode. */
export interface SlackFrontDoor {
  /** `POST /slack/events` in HTTP mode; none in Socket Mode. */
  routes: Route[];
  /** Check the token (`auth.test`) and, in Socket Mode, connect. */
  start(): Promise<void>;
  /** After the commands in flight are done: deliver their deferred answers (up to `graceMs`), then disconnect. */
  stop(graceMs?: number): Promise<void>;
}

/** Everything Bolt stays inside here: the rest of Vigil sees routes and a start/stop pair. */
export function createSlackFrontDoor(opts: SlackFrontDoorOptions): SlackFrontDoor {
  const replayGuard = opts.mode.kind === 'http' ? createReplayGuard({ redis: opts.replay?.redis ?? null, keyPrefix: opts.replay?.keyPrefix ?? 'vigil', registry: opts.metrics }) : undefined;
  const { app, receiver } = createSlackApp({ ...opts, ...(replayGuard ? { replayGuard } : {}) });
  const logError = (message: string) => opts.log.error(message);
  // One poster for both listeners: the allowed origin and the metric are the front door's.
  const responseUrls = createResponseUrlPoster({ slackApiUrl: opts.slackApiUrl, log: opts.log, ...(opts.metrics ? { registry: opts.metrics } : {}) });
  registerCommandListener(app, { dispatcher: opts.commands, ackAfterMs: opts.ackAfterMs, visibility: opts.visibility, logError, responseUrls });
  registerInteractionListener(app, { interactions: opts.interactions, logError, responseUrls });
  return {
    routes: receiver ? [slackEventsRoute(receiver)] : [],
    async start() {
      try {
        await app.init();
        if (opts.mode.kind === 'socket') await app.start();
      } catch (err) {
        throw new Error(`Slack: could not connect (${describeError(err)}). Check SLACK_BOT_TOKEN / SLACK_APP_TOKEN.`, { cause: err });
      }
    },
    async stop(graceMs = 0) {
      // Deferred answers of commands that finished during the drain still get their retries, within
      // what is left of the grace. Socket Mode disconnects only after that: acks travel on its socket.
      await responseUrls.drain(graceMs);
      if (opts.mode.kind === 'socket') await app.stop();
    },
  };
}
