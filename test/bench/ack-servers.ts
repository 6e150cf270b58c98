/**
 * Child process for the ack-latency benchmark: the real Vigil (HTTP mode, real Postgres and Redis,
 * Slack stand-in) and a bare Bolt app that only acks, side by side in one process so both see the
 * same machine. The parent sends the load from its own process. Talks to the parent over IPC:
 * sends `{ vigilPort, boltPort }` when ready, stops on `'stop'`.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import { startVigil } from '../../src/vigil.ts';
import { startSlackApiServer } from '../support/slack-api-server.ts';

export interface AckServersInput {
  dbUrl: string;
  redisUrl: string;
  signingSecret: string;
  botToken: string;
  configPath: string;
  cwd: string;
}

export interface AckServersReady {
  vigilPort: number;
  boltPort: number;
  slackApiUrl: string;
}

const BOT_IDENTITY = { botId: 'B0VIGIL', botUserId: 'U0VIGIL' };

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as AckServersInput;
  const slack = await startSlackApiServer();

  const config = loadConfig(
    {
      SLACK_BOT_TOKEN: input.botToken,
      SLACK_SIGNING_SECRET: input.signingSecret,
      SLACK_API_URL: `${slack.url}/api/`,
      DATABASE_URL: input.dbUrl,
      REDIS_URL: input.redisUrl,
      PORT: '0',
      VIGIL_CONFIG: input.configPath,
      PATH: process.env.PATH,
    },
    input.cwd,
  );
  const vigil = await startVigil({ config, log: createLogger('error'), announce: () => undefined, embedded: false, botIdentity: BOT_IDENTITY });
  if (!vigil.server) throw new Error('Vigil started without its HTTP server');

  // The baseline: what any Bolt app costs to verify, parse, route and ack a slash command.
  const receiver = new HTTPReceiver({ signingSecret: input.signingSecret, endpoints: '/slack/events', logLevel: LogLevel.ERROR });
  const app = new App({
    token: input.botToken,
    receiver,
    ...BOT_IDENTITY,
    clientOptions: { slackApiUrl: `${slack.url}/api/` },
    logLevel: LogLevel.ERROR,
  });
  app.command(/.*/, async ({ ack }) => {
    await ack();
  });
  const server = (await app.start(0)) as Server;
  server.keepAliveTimeout = 65_000; // as Vigil's server, so neither drops warm connections between rounds

  const ready: AckServersReady = {
    vigilPort: vigil.server.port,
    boltPort: (server.address() as AddressInfo).port,
    slackApiUrl: slack.url,
  };
  process.send?.(ready);
  process.on('message', (message) => {
    if (message !== 'stop') return;
    void (async () => {
      server.closeAllConnections();
      await app.stop();
      await vigil.stop();
      await slack.close();
      process.exit(0);
    })();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
