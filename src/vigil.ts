import type { Config } from './config/load.ts';
import { createContainer, type Container } from './container.ts';
import type { Logger } from './log.ts';
import { startHttpServer, type RunningServer } from './http/server.ts';
import { createSlackFrontDoor, type SlackFrontDoor } from './slack/front-door.ts';
import { describeError } from './core/errors.ts';
import type { FeatureFactory } from './features/index.ts';

export interface RunningVigil {
  container: Container;
  /** Null only in shell mode when the port was taken. */
  server: RunningServer | null;
  stop(): Promise<void>;
}

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
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await slack?.stop();
      await server?.close();
      await container.close();
    })();
    return stopping;
  };

  try {
    await container.startBackground();
    if (config.slack.kind !== 'none') {
      slack = createSlackFrontDoor({
        mode: config.slack,
        slackApiUrl: config.slackApiUrl,
        log,
        commands: container.commands,
        interactions: container.interactions,
        ackAfterMs: config.file.slack.ackAfterMs,
        visibility: config.file.slack.visibility,
        ...(opts.botIdentity ? { botIdentity: opts.botIdentity } : {}),
      });
    }
    announce(slackLine(config));
    const routes = [...container.routes, ...(slack?.routes ?? [])];
    try {
      server = await startHttpServer({ routes, logError: (m) => log.error(m) }, config.env.PORT);
      announce(`HTTP: ${routes.map((r) => r.path).join(' ')} on port ${server.port}`);
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
  return { container, server, stop };
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
