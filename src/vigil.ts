import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from './config/load.ts';
import type { Dispatcher } from './core/dispatch.ts';
import type { InteractionDispatcher } from './core/interactions.ts';
import { createContainer, type Container } from './container.ts';
import type { Logger } from './log.ts';
import { startHttpServer, type RunningServer } from './http/server.ts';
import type { SlackFrontDoor } from './slack/front-door.ts';
import { describeError } from './core/errors.ts';
import type { FeatureFactory } from './features/index.ts';

export interface RunningVigil {
  container: Container;
  /** The container's dispatchers, counted while they run so that stop() can wait for them (the shell uses these). */
  commands: Dispatcher;
  interactions: InteractionDispatcher;
  /** Null only in shell mode when the port was taken. */
  server: RunningServer | null;
  /**
   * Stop intake (Slack, new HTTP connections), give requests, commands and clicks in flight up to
   * `graceMs` to finish, then stop workers (their jobs finish), flush the audit and close
   * connections and embedded servers. Safe to call twice.
   */
  stop(graceMs?: number): Promise<void>;
}

/** How long in-flight requests, commands and clicks get to finish once stopping. */
export const SHUTDOWN_GRACE_MS = 10_000;

export interface StartOptions {
  config: Config;
  log: Logger;
  announce: (line: string) => void;
  embedded: boolean;
  /** Replace the default feature list (tests). */
  features?: readonly FeatureFactory[];
  /** Skip `auth.test` (benchmarks). */
  botIdentity?: { botId: string; botUserId: string };
}

/**
 * Everything but the process, in an explicit order. Start: infrastructure and features, their
 * workers and schedules, the HTTP server, then Slack. Stop: intake first (Slack, HTTP), then
 * workers and features, then connections. `main.ts` adds signals and the shell; end-to-end tests
 * and benchmarks start exactly this.
 */
export async function startVigil(opts: StartOptions): Promise<RunningVigil> {
  const { config, log, announce } = opts;
  const container = await createContainer(config, { log, announce, embedded: opts.embedded, role: 'bot', ...(opts.features ? { features: opts.features } : {}) });
  let slack: SlackFrontDoor | null = null;
  let server: RunningServer | null = null;
  const inFlight = trackInFlight(container.commands, container.interactions);
  let stopping: Promise<void> | null = null;
  const stop = (graceMs = SHUTDOWN_GRACE_MS) => {
    stopping ??= (async () => {
      const deadline = Date.now() + graceMs;
      const grace = sleep(graceMs, 'timeout' as const, { ref: false });
      // Slack stays connected while what is in flight finishes: in Socket Mode its acks go over that
      // connection, and deferred answers are posted after their command ends.
      const drained = await Promise.race([Promise.all([server && stopAccepting(server.server), inFlight.settled()]).then(() => 'drained' as const), grace]);
      if (drained === 'timeout') log.warn({ graceMs, inFlight: inFlight.count() }, 'still in flight after the shutdown grace; closing');
      await slack?.stop(Math.max(0, deadline - Date.now()));
      await server?.close();
      await container.close();
    })();
    return stopping;
  };

  try {
    await container.startBackground();
    if (config.slack.kind !== 'none') {
      // Bolt and the Slack Web API only with Slack: shell mode starts faster and idles smaller without them.
      const { createSlackFrontDoor } = await import('./slack/front-door.ts');
      slack = createSlackFrontDoor({
        mode: config.slack,
        slackApiUrl: config.slackApiUrl,
        log,
        commands: inFlight.commands,
        interactions: inFlight.interactions,
        ackAfterMs: config.file.slack.ackAfterMs,
        visibility: config.file.slack.visibility,
        metrics: container.infra.metrics.registry,
        replay: { redis: container.infra.probeRedis, keyPrefix: config.file.state.queuePrefix },
        ...(opts.botIdentity ? { botIdentity: opts.botIdentity } : {}),
      });
    }
    announce(slackLine(config));
    const routes = [...container.routes, ...(slack?.routes ?? [])];
    try {
      server = await startHttpServer({ routes, logError: (m) => log.error(m), registry: container.infra.metrics.registry, limits: config.file.http }, config.env.PORT, config.httpHost);
      announce(`HTTP: ${routes.map((r) => r.path).join(' ')} on port ${server.port}, ${listeningOn(server.server, config)}`);
    } catch (err) {
      // In shell mode a busy port only costs /metrics; Slack over HTTP cannot work without it.
      if (config.slack.kind === 'http') throw err;
      announce(`HTTP: not started (${describeError(err)}); the shell still works`);
    }
    await slack?.start();
  } catch (err) {
    await stop();
    throw err;
  }
  return { container, commands: inFlight.commands, interactions: inFlight.interactions, server, stop };
}

/** Where the server listens, and how to change it when that is loopback only. */
function listeningOn(server: Server, config: Config): string {
  const { address } = server.address() as AddressInfo;
  if (address === '127.0.0.1' || address === '::1') return `${address} only (set HOST=0.0.0.0 to serve other machines, e.g. Alertmanager)`;
  return `${address}${config.env.HOST ? ' (HOST)' : ' (Slack over HTTP)'}`;
}

/**
 * No new connections; requests already in flight finish, and each keep-alive connection is
 * closed once idle (Node closes only those idle at the time of close(), so keep looking).
 */
async function stopAccepting(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<boolean>((resolve) => server.close(() => resolve(true)));
  do server.closeIdleConnections();
  while (!(await Promise.race([closed, sleep(50, false, { ref: false })])));
}

/**
 * The dispatchers, counting what runs: a Slack command keeps working after its ack, and a click
 * after its HTTP answer, so the HTTP server alone cannot tell when they are done.
 */
function trackInFlight(commands: Dispatcher, interactions: InteractionDispatcher) {
  const pending = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    pending.add(work);
    const done = () => void pending.delete(work);
    work.then(done, done);
    return work;
  };
  return {
    commands: {
      dispatch: (slash, text, invoker) => {
        const work = commands.dispatch(slash, text, invoker);
        // In flight until its audit event is safe too: the answer waits for that before it goes.
        track(work.then((result) => result.recorded));
        return work;
      },
    } satisfies Dispatcher,
    interactions: { dispatch: (interaction) => track(interactions.dispatch(interaction)) } satisfies InteractionDispatcher,
    count: () => pending.size,
    async settled(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

function slackLine(config: Config): string {
  switch (config.slack.kind) {
    case 'http':
      return `Slack: HTTP, POST /slack/events on port ${config.env.PORT}${config.slackApiUrl ? ` (Web API at ${config.slackApiUrl})` : ''}`;
    case 'socket':
      return 'Slack: Socket Mode (SLACK_APP_TOKEN)';
    case 'none':
      return 'Slack: not configured, shell mode (set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN)';
  }
}
