import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import { startVigil, type RunningVigil } from '../../src/vigil.ts';
import { startSlackApiServer, validateBlocks, type SlackApiServer } from '../support/slack-api-server.ts';
import { startSocketModeServer, type SocketModeServer } from '../support/socket-mode-server.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';

const APP_TOKEN = 'xapp-1-test';
const prefix = uniqueName('socket');

describe('Slack over Socket Mode', () => {
  let socket: SocketModeServer;
  let slack: SlackApiServer;
  let vigil: RunningVigil;
  let db: TestDatabase | undefined;
  let dir = '';

  beforeAll(async () => {
    socket = await startSocketModeServer();
    slack = await startSlackApiServer({ socketUrl: socket.url });
    // Prefixes of its own, for the queues it inspects and for its outbox: the machine's Redis is shared.
    dir = mkdtempSync(join(tmpdir(), 'vigil-socket-'));
    writeFileSync(join(dir, 'vigil.yaml'), `bullmq:\n  prefix: ${prefix}\nstate:\n  queuePrefix: ${prefix}_own\n`);
    // And a database of its own for Vigil's state (outbox rows, audit trail): the server is shared too.
    db = await createTestDatabase('socket');
    const config = loadConfig(
      {
        SLACK_BOT_TOKEN: 'xoxb-socket',
        SLACK_APP_TOKEN: APP_TOKEN,
        SLACK_API_URL: `${slack.url}/api/`,
        DATABASE_URL: db.url,
        REDIS_URL: TEST_REDIS_URL,
        PORT: '0',
        VIGIL_CONFIG: 'vigil.yaml',
      },
      dir,
    );
    vigil = await startVigil({ config, log: createLogger('silent'), announce: () => undefined, embedded: false });
    await socket.connected();
  });

  afterAll(async () => {
    await vigil?.stop();
    await socket?.close();
    await slack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    const redis = new Redis(TEST_REDIS_URL);
    await deleteKeysUnder(redis, `${prefix}_own`);
    redis.disconnect();
    await db?.drop();
  });

  it('opens the connection with the app token through SLACK_API_URL and checks the bot token', () => {
    const open = slack.calls.find((c) => c.method === 'apps.connections.open');
    expect(open?.token).toBe(APP_TOKEN);
    expect(slack.calls.some((c) => c.method === 'auth.test' && c.token === 'xoxb-socket')).toBe(true);
  });

  it('answers /health in the ack of the envelope, as valid Block Kit', async () => {
    const ack = await socket.sendSlashCommand({ command: '/health', text: '', user_id: 'U_SOCKET', channel_id: 'C1', team_id: 'T1' });
    expect(ack.response_type).toBe('ephemeral');
    expect(JSON.stringify(ack.blocks)).toContain('Health');
    expect(validateBlocks(ack.blocks)).toEqual([]);
  });

  it('routes /vigil help and reports bad arguments with usage', async () => {
    const help = await socket.sendSlashCommand({ command: '/vigil', text: 'help', user_id: 'U_SOCKET' });
    expect(JSON.stringify(help.blocks)).toContain('/slowqueries');
    const bad = await socket.sendSlashCommand({ command: '/slowqueries', text: '--limit 0', user_id: 'U_SOCKET' });
    expect(JSON.stringify(bad.blocks)).toContain('--limit: must be at least 1');
  });
});
