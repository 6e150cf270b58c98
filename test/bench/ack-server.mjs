// @ts-check
/**
 * One server of the ack-latency benchmark (test/bench/ack-latency.ts), started twice as separate
 * processes: `node ack-server.mjs vigil <input>` (the real Vigil, HTTP mode, real Postgres and
 * Redis) and `node ack-server.mjs bolt <input>` (a bare Bolt app that only acks). Separate
 * processes so that deferred work of one (GC, audit writes, snapshot refreshes) cannot land in the
 * other's round, and so that each one's CPU is its own.
 *
 * Plain JavaScript run by plain `node`, no TypeScript loader: Vigil is imported from the compiled
 * build (dist/), as `npm start` runs it. The parent builds dist/ first.
 *
 * IPC with the parent: sends `{ port }` when listening; answers `{ type: 'cpu' }` with
 * process.cpuUsage(), `{ type: 'profile-start' }` / `{ type: 'profile-stop', path }` (a CPU profile
 * of just the measured rounds, through node:inspector) and stops on `{ type: 'stop' }`.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/**
 * @typedef {{ dbUrl: string, redisUrl: string, signingSecret: string, botToken: string,
 *   configPath: string, cwd: string, slackApiUrl: string }} AckServerInput
 */

const BOT_IDENTITY = { botId: 'B0VIGIL', botUserId: 'U0VIGIL' };

/** @param {AckServerInput} input @returns {Promise<{ port: number, stop: () => Promise<void> }>} */
async function startVigilServer(input) {
  const dist = new URL('../../dist/src/', import.meta.url);
  const { loadConfig } = await import(new URL('config/load.js', dist).href);
  const { createLogger } = await import(new URL('log.js', dist).href);
  const { startVigil } = await import(new URL('vigil.js', dist).href);
  const config = loadConfig(
    {
      SLACK_BOT_TOKEN: input.botToken,
      SLACK_SIGNING_SECRET: input.signingSecret,
      SLACK_API_URL: `${input.slackApiUrl}/api/`,
      DATABASE_URL: input.dbUrl,
      REDIS_URL: input.redisUrl,
      PORT: '0',
      VIGIL_CONFIG: input.configPath,
      PATH: process.env.PATH,
    },
    input.cwd,
  );
  // Production's level: whatever the ack path logs at info is part of what it costs.
  const vigil = await startVigil({ config, log: createLogger('info', { isTTY: false }), announce: () => undefined, embedded: false, botIdentity: BOT_IDENTITY });
  if (!vigil.server) throw new Error('Vigil started without its HTTP server');
  return { port: vigil.server.port, stop: () => vigil.stop(1000) };
}

/** The baseline: what any Bolt app costs to verify, parse, route and ack a slash command. @param {AckServerInput} input */
async function startBoltServer(input) {
  const { App, HTTPReceiver, LogLevel } = await import('@slack/bolt');
  const receiver = new HTTPReceiver({ signingSecret: input.signingSecret, endpoints: '/slack/events', logLevel: LogLevel.ERROR });
  const app = new App({
    token: input.botToken,
    receiver,
    ...BOT_IDENTITY,
    clientOptions: { slackApiUrl: `${input.slackApiUrl}/api/` },
    logLevel: LogLevel.ERROR,
  });
  app.command(/.*/, async ({ ack }) => {
    await ack();
  });
  const server = /** @type {import('node:http').Server} */ (await app.start(0));
  server.keepAliveTimeout = 65_000; // as Vigil's server, so neither drops warm connections between rounds
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    port: address.port,
    stop: async () => {
      server.closeAllConnections();
      await app.stop();
    },
  };
}

async function main() {
  const role = process.argv[2];
  /** @type {AckServerInput} */
  const input = JSON.parse(process.argv[3] ?? '{}');
  if (role !== 'vigil' && role !== 'bolt') throw new Error(`role must be vigil or bolt, not ${role}`);
  const server = role === 'vigil' ? await startVigilServer(input) : await startBoltServer(input);
  /** @type {Session | null} */
  let profiler = null;

  process.on('message', (/** @type {{ type: string, path?: string }} */ message) => {
    void (async () => {
      if (message.type === 'cpu') {
        process.send?.({ type: 'cpu', usage: process.cpuUsage() });
      } else if (message.type === 'profile-start') {
        profiler = new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
        process.send?.({ type: 'profile-started' });
      } else if (message.type === 'profile-stop' && profiler && message.path) {
        const { profile } = await profiler.post('Profiler.stop');
        profiler.disconnect();
        profiler = null;
        await writeFile(message.path, JSON.stringify(profile));
        process.send?.({ type: 'profile-stopped', path: message.path });
      } else if (message.type === 'stop') {
        await server.stop();
        process.exit(0);
      }
    })().catch((/** @type {unknown} */ err) => {
      console.error(err);
      process.exit(1);
    });
  });
  process.send?.({ type: 'ready', port: server.port });
}

main().catch((/** @type {unknown} */ err) => {
  console.error(err);
  process.exit(1);
});
