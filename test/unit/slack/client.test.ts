import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@slack/web-api';
import { pino } from 'pino';
import { createSlackClient } from '../../../src/slack/client.ts';
import { startSlackApiServer, type SlackApiServer } from '../../support/slack-api-server.ts';

// Built at run time: a placeholder, but one the client must still never log.
const TOKEN = `xoxb-${randomBytes(12).toString('hex')}`;

describe('createSlackClient', () => {
  let server: SlackApiServer;
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });

  beforeAll(async () => {
    server = await startSlackApiServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('neither waits out a 429 nor retries a 500: one request each, the error at once', async () => {
    const client = createSlackClient({ token: TOKEN, slackApiUrl: `${server.url}/api/`, log });
    server.inject({ status: 429, retryAfter: 30, count: 1 });
    const started = Date.now();
    await expect(client.chat.postMessage({ channel: 'C1', text: 'x' })).rejects.toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 30 });
    expect(Date.now() - started).toBeLessThan(5000);

    server.inject({ status: 500, count: 1 });
    await expect(client.chat.postMessage({ channel: 'C1', text: 'x' })).rejects.toMatchObject({ code: ErrorCode.HTTPError, statusCode: 500 });
    expect(server.calls.map((c) => c.status)).toEqual([429, 500]);
    expect(server.calls[0]?.token).toBe(TOKEN);
  });

  it('gives up on a request that takes longer than its timeout', async () => {
    // A port that accepts nothing is not portable; a 1 ms timeout against a live server is.
    const client = createSlackClient({ token: TOKEN, slackApiUrl: `${server.url}/api/`, log, timeoutMs: 1 });
    await expect(client.chat.postMessage({ channel: 'C2', text: 'slow' })).rejects.toMatchObject({ code: ErrorCode.RequestError });
  });

  it('logs through pino and never logs the token', async () => {
    const client = createSlackClient({ token: TOKEN, slackApiUrl: `${server.url}/api/`, log });
    await client.chat.postMessage({ channel: 'C3', text: 'hello' });
    const ours = lines.map((l) => JSON.parse(l) as { component?: string; msg: string }).filter((l) => l.component === 'slack-web-api');
    expect(ours.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(TOKEN);
  });
});
