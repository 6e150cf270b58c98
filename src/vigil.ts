import type { Config } from './config/load.ts';
import { createContainer, type Container } from './container.ts';
import type { Logger } from './log.ts';
import { startHttpServer, type RunningServer } from './http/server.ts';
import { registerCommandListener } from './slack/command-listener.ts';
import { describeError } from './core/errors.ts';

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
  /** Skip `auth.test` (benchmarks). */
  botIdentity?: { botId: string; botUserId: string };
}

/**
 * Everything but the process: container, HTTP server, Slack listeners. `main.ts` adds signals and
 * the shell; end-to-end tests and benchmarks start exactly this.
 */
export async function startVigil(opts: StartOptions): Promise<RunningVigil> {
  const { config, log, announce } = opts;
  const container = await createContainer(config, {
    log,
    announce,
    embedded: opts.embedded,
    slack: true,
    ...(opts.botIdentity ? { botIdentity: opts.botIdentity } : {}),
  });
  let server: RunningServer | null = null;
  try {
    server = await startHttpServer(
      { slack: container.slack?.receiver ?? null, registry: container.metrics.registry, readiness: container.readiness, logError: (m) => log.error(m) },
      config.env.PORT,
    );
    announce(`HTTP: /healthz /readyz /metrics${container.slack?.receiver ? ' /slack/events' : ''} on port ${server.port}`);
  } catch (err) {
    // In shell mode a busy port only costs /metrics; Slack over HTTP cannot work without it.
    if (config.slack.kind === 'http') {
      await container.close();
      throw err;
    }
    announce(`HTTP: not started (${describeError(err)}); the shell still works`);
  }

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await server?.close();
      if (config.slack.kind === 'socket') await container.slack?.app.stop();
      await container.close();
    })();
    return stopping;
  };

  if (container.slack) {
    registerCommandListener(container.slack.app, {
      dispatcher: container.dispatcher,
      ackAfterMs: config.file.slack.ackAfterMs,
      visibility: config.file.slack.visibility,
      logError: (m) => log.error(m),
    });
    try {
      await container.slack.app.init();
      if (config.slack.kind === 'socket') await container.slack.app.start();
    } catch (err) {
      await stop();
      throw new Error(`Slack: could not connect (${describeError(err)}). Check SLACK_BOT_TOKEN / SLACK_APP_TOKEN.`, { cause: err });
    }
  }
  return { container, server, stop };
}
