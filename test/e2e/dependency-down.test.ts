/**
 * The bot in Slack HTTP mode with Redis unreachable from the start, as after a failed deploy of the
 * cache: it still starts, answers, says what is down, and stops promptly on request.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { freePort } from '../../src/embedded/free-port.ts';
import { createLogger } from '../../src/log.ts';
import { startVigil, type RunningVigil } from '../../src/vigil.ts';
import { uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { startSlackApiServer, type SlackApiServer } from '../support/slack-api-server.ts';
import { postSigned, signedSlashCommand } from '../support/slack-requests.ts';

const SIGNING_SECRET = `down-signing-secret-${randomBytes(8).toString('hex')}`;
let slack: SlackApiServer;
let vigil: RunningVigil | null = null;
let dir = '';
let base = '';
let db: TestDatabase | undefined;
const lines: string[] = [];

beforeAll(async () => {
  slack = await startSlackApiServer();
  dir = mkdtempSync(join(tmpdir(), 'vigil-down-'));
  // Prefixes and a database of its own, never the shared defaults: another suite may run on the same servers.
  writeFileSync(join(dir, 'vigil.yaml'), `bullmq:\n  prefix: ${uniqueName('down')}\nstate:\n  queuePrefix: ${uniqueName('down_own')}\n`);
  db = await createTestDatabase('down');
  const config = loadConfig(
    {
      SLACK_BOT_TOKEN: `xoxb-down-${randomBytes(8).toString('hex')}`,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: `${slack.url}/api/`,
      DATABASE_URL: db.url,
      // A port nothing listens on: refused at once, every time.
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      PORT: '0',
      VIGIL_CONFIG: 'vigil.yaml',
    },
    dir,
  );
  vigil = await startVigil({ config, log: createLogger('silent'), announce: (l) => lines.push(l), embedded: false });
  base = `http://127.0.0.1:${vigil.server?.port ?? 0}`;
});

afterAll(async () => {
  await vigil?.stop();
  await slack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await db?.drop();
});

describe('Redis down from the start', () => {
  it('starts and serves Slack', () => {
    expect(lines).toContainEqual(expect.stringMatching(/^HTTP: .*\/slack\/events on port \d+/));
    expect(vigil?.server?.port).toBeGreaterThan(0);
  });

  it('answers /health saying Redis is down, and /readyz is 503 naming it', async () => {
    const res = await postSigned(`${base}/slack/events`, signedSlashCommand({ command: '/health' }, { signingSecret: SIGNING_SECRET }));
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.json)).toContain('Health: unhealthy');
    expect(JSON.stringify(res.json)).toContain(':red_circle: *Redis*');
    // Which dependency, where, and why in words: not ioredis' "Stream isn't writeable".
    expect(JSON.stringify(res.json)).toMatch(/Redis at 127\.0\.0\.1:\d+ refused the connection/);
    expect(JSON.stringify(res.json)).not.toContain('writeable');
    expect(JSON.stringify(res.json)).toContain(':large_green_circle: *Postgres*');
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { checks: Array<{ name: string; ready: boolean }> };
    expect(body.checks.map((c) => [c.name, c.ready])).toEqual([
      ['postgres', true],
      ['redis', false],
      ['audit', true],
    ]);
  });

  it('stops on request instead of waiting for Redis forever', async () => {
    const running = vigil;
    vigil = null;
    // Bounded by the test timeout: before the fix, the outbox worker's close waited for Redis forever.
    await expect(running?.stop()).resolves.toBeUndefined();
  });
});
