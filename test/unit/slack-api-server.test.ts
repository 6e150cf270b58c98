import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ErrorCode, LogLevel, WebClient } from '@slack/web-api';
import { startSlackApiServer, validateBlocks } from '../support/slack-api-server.ts';
import type { SlackApiServer } from '../support/slack-api-server.ts';

const TOKEN = 'xoxb-test';

function clientFor(server: SlackApiServer, token = TOKEN): WebClient {
  return new WebClient(token, {
    slackApiUrl: server.url + '/api/',
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: LogLevel.ERROR, // silences the "top-level text missing" warning for blocks-only posts
  });
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

/** Runs `fn`, expecting it to reject, and returns the error for inspection. */
async function rejectionOf(fn: () => Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await fn();
  } catch (err) {
    return err as Record<string, unknown>;
  }
  throw new Error('expected the call to reject');
}

describe('slack-api-server', () => {
  let server: SlackApiServer;
  let client: WebClient;

  beforeAll(async () => {
    server = await startSlackApiServer();
    client = clientFor(server);
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers auth.test for a WebClient and records the bearer token', async () => {
    const res = await client.auth.test();
    expect(res).toMatchObject({
      ok: true,
      url: `${server.url}/`,
      team: 'Vigil Test',
      user: 'vigil',
      team_id: 'T0TEST',
      user_id: 'U0VIGIL',
      bot_id: 'B0VIGIL',
    });
    const call = server.calls.at(-1);
    expect(call).toMatchObject({ method: 'auth.test', token: TOKEN, status: 200 });
  });

  it('records chat.postMessage with form-encoded blocks parsed back into objects', async () => {
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: 'Queue health' } },
      section('*emails*: 12 waiting'),
      { type: 'actions', elements: [{ type: 'button', action_id: 'retry', value: 'emails', text: { type: 'plain_text', text: 'Retry' } }] },
    ];
    const res = await client.chat.postMessage({ channel: 'C-post', text: 'Queue health', blocks });
    expect(res.ok).toBe(true);
    expect(res.channel).toBe('C-post');
    expect(res.ts).toMatch(/^\d+\.\d{6}$/);
    expect(res.message).toEqual({ text: 'Queue health', blocks });

    const call = server.calls.find((c) => c.method === 'chat.postMessage' && c.body.channel === 'C-post');
    expect(call?.status).toBe(200);
    expect(call?.body.blocks).toEqual(blocks); // an array again, not the JSON string WebClient sent
    expect(call?.body).not.toHaveProperty('token');

    // ts values must be unique so threads/updates in e2e tests can't collide.
    const second = await client.chat.postMessage({ channel: 'C-post-2', text: 'again' });
    expect(second.ts).not.toBe(res.ts);
  });

  it('accepts JSON bodies and chat.update', async () => {
    const res = await fetch(`${server.url}/api/chat.update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ channel: 'C-upd', ts: '1.000001', text: 'edited', blocks: [section('edited')] }),
    });
    expect(await res.json()).toEqual({ ok: true, channel: 'C-upd', ts: '1.000001', text: 'edited' });
    expect(server.calls.at(-1)?.body.blocks).toEqual([section('edited')]);
  });

  it('rejects 51 blocks with invalid_blocks (HTTP 200, like Slack)', async () => {
    const blocks = Array.from({ length: 51 }, (_, i) => section(`line ${i}`));
    const err = await rejectionOf(() => client.chat.postMessage({ channel: 'C-many', text: 'x', blocks }));
    expect(err.code).toBe(ErrorCode.PlatformError);
    const data = err.data as { error: string; errors: string[] };
    expect(data.error).toBe('invalid_blocks');
    expect(data.errors.join('\n')).toMatch(/too many blocks: 51 > 50/);
    expect(server.calls.at(-1)?.status).toBe(200);

    // 50 is the limit itself, so it must still go through.
    const ok = await client.chat.postMessage({ channel: 'C-many', text: 'x', blocks: blocks.slice(0, 50) });
    expect(ok.ok).toBe(true);
  });

  it('rejects a 3001-character section but accepts 3000', async () => {
    const err = await rejectionOf(() =>
      client.chat.postMessage({ channel: 'C-long', text: 'x', blocks: [section('a'.repeat(3001))] }),
    );
    expect((err.data as { error: string }).error).toBe('invalid_blocks');
    expect((err.data as { errors: string[] }).errors).toEqual(['blocks[0]: section text 3001 > 3000']);

    const ok = await client.chat.postMessage({ channel: 'C-long', text: 'x', blocks: [section('a'.repeat(3000))] });
    expect(ok.ok).toBe(true);
  });

  it('validateBlocks reports the other documented limits', () => {
    const long = (n: number) => 'x'.repeat(n);
    const button = { type: 'button', action_id: long(256), value: long(2001), text: { type: 'plain_text', text: 'b' } };
    const problems = validateBlocks([
      { type: 'header', block_id: long(256), text: { type: 'plain_text', text: long(151) } },
      { type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) },
      { type: 'section', fields: [{ type: 'mrkdwn', text: long(2001) }], accessory: button },
      { type: 'actions', elements: Array.from({ length: 26 }, () => ({ type: 'button', action_id: 'a' })) },
    ]);
    expect(problems).toEqual([
      'blocks[0]: block_id longer than 255',
      'blocks[0]: header text 151 > 150',
      'blocks[1]: 11 fields > 10',
      'blocks[2].fields[0]: 2001 > 2000',
      'blocks[2].accessory: action_id longer than 255',
      'blocks[2].accessory: button value longer than 2000',
      'blocks[3]: 26 elements > 25',
    ]);
    expect(validateBlocks([section('fine')])).toEqual([]);
    expect(validateBlocks('[not json')).toEqual(['blocks must be an array']);
  });

  it('checks channel, text and message length', async () => {
    const post = (args: Record<string, unknown>) =>
      rejectionOf(() => client.apiCall('chat.postMessage', args)).then((e) => (e.data as { error: string }).error);
    expect(await post({ text: 'no channel' })).toBe('channel_not_found');
    expect(await post({ channel: 'C-text' })).toBe('no_text');
    expect(await post({ channel: 'C-text', text: 'x'.repeat(40001) })).toBe('msg_too_long');
  });

  it('answers 413 for bodies over 1 MiB and unknown_method for unknown methods', async () => {
    const big = await fetch(`${server.url}/api/chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ channel: 'C-big', text: 'x'.repeat(1024 * 1024) }),
    });
    expect(big.status).toBe(413);

    const err = await rejectionOf(() => client.apiCall('chat.frobnicate', {}));
    expect((err.data as { error: string }).error).toBe('unknown_method');
  });

  it('rejects missing and non-bot tokens', async () => {
    const userToken = clientFor(server, 'xoxp-user');
    const err = await rejectionOf(() => userToken.auth.test());
    expect(err.code).toBe(ErrorCode.PlatformError);
    expect((err.data as { error: string }).error).toBe('invalid_auth');

    const none = await fetch(`${server.url}/api/auth.test`, { method: 'POST' });
    expect(none.status).toBe(200);
    expect(await none.json()).toEqual({ ok: false, error: 'not_authed' });

    // The legacy `token` form field is still honoured.
    const form = await fetch(`${server.url}/api/auth.test`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TOKEN }),
    });
    expect(await form.json()).toMatchObject({ ok: true, user_id: 'U0VIGIL' });
    expect(server.calls.at(-1)?.token).toBe(TOKEN);
  });

  it('limits each response_url to five posts and validates their blocks', async () => {
    const url = server.responseUrl('cmd-1');
    expect(url).toBe(`${server.url}/response/cmd-1`);
    const post = (target: string, body: unknown) =>
      fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    const bad = await post(url, { blocks: Array.from({ length: 51 }, () => section('x')) });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe('invalid_blocks');

    for (let i = 1; i <= 5; i++) {
      const res = await post(url, { text: `update ${i}`, replace_original: true });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok');
    }
    const sixth = await post(url, { text: 'update 6' });
    expect(sixth.status).toBe(404);
    expect(await sixth.text()).toBe('used_url');

    const mine = server.responses.filter((r) => r.path === '/response/cmd-1');
    expect(mine.map((r) => r.status)).toEqual([400, 200, 200, 200, 200, 200, 404]);
    expect(mine[1]?.body).toEqual({ text: 'update 1', replace_original: true });

    // The allowance is per URL, and generated ids are distinct.
    const other = server.responseUrl();
    expect(other).not.toBe(server.responseUrl());
    expect((await post(other, { text: 'fresh' })).status).toBe(200);
  });

  it('waitFor resolves once the predicate holds and rejects on timeout', async () => {
    let flag = false;
    setTimeout(() => (flag = true), 30);
    await server.waitFor(() => flag, 1000);
    expect(flag).toBe(true);
    await expect(server.waitFor(() => false, 50)).rejects.toThrow(/within 50 ms/);
  });
});

describe('slack-api-server rate limiting', () => {
  let server: SlackApiServer;
  let clock = 1_700_000_000_000;

  beforeAll(async () => {
    // A frozen clock makes "the same second" exact instead of timing-dependent.
    server = await startSlackApiServer({ now: () => clock });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers 429 with Retry-After for a second message to one channel, but not to another', async () => {
    const client = clientFor(server);
    expect((await client.chat.postMessage({ channel: 'C-busy', text: 'first' })).ok).toBe(true);

    const err = await rejectionOf(() => client.chat.postMessage({ channel: 'C-busy', text: 'second' }));
    expect(err.code).toBe(ErrorCode.RateLimitedError);
    expect(err.retryAfter).toBe(1);

    expect((await client.chat.postMessage({ channel: 'C-quiet', text: 'first' })).ok).toBe(true);

    // The raw response carries exactly what Slack sends.
    const raw = await fetch(`${server.url}/api/chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ channel: 'C-busy', text: 'third' }),
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('1');
    expect(await raw.json()).toEqual({ ok: false, error: 'ratelimited' });

    expect(server.calls.map((c) => [c.body.channel, c.status])).toEqual([
      ['C-busy', 200],
      ['C-busy', 429],
      ['C-quiet', 200],
      ['C-busy', 429],
    ]);

    // After a second the bucket has refilled.
    clock += 1000;
    expect((await client.chat.postMessage({ channel: 'C-busy', text: 'later' })).ok).toBe(true);

    server.reset();
    expect(server.calls).toHaveLength(0);
  });
});

describe('slack-api-server faults and violations', () => {
  let server: SlackApiServer;
  let clock = 1_700_000_000_000;
  let client: WebClient;

  beforeAll(async () => {
    server = await startSlackApiServer({ now: () => clock, perChannelPerSecond: 1, burst: 2 });
    client = clientFor(server);
  });
  afterAll(async () => {
    await server.close();
  });

  const post = (channel: string, text = 'x') => client.chat.postMessage({ channel, text });

  it('answers an injected 429 with its Retry-After and counts requests before it expires', async () => {
    server.reset();
    server.inject({ status: 429, retryAfter: 3, count: 1, channel: 'C-429' });
    const err = await rejectionOf(() => post('C-429'));
    expect(err.code).toBe(ErrorCode.RateLimitedError);
    expect(err.retryAfter).toBe(3);
    // The fault was used up, but Slack asked for 3 s of silence on this channel: asking early is a violation.
    clock += 2999;
    expect((await post('C-429')).ok).toBe(true);
    expect(server.violations).toEqual([{ kind: 'retry_after', method: 'chat.postMessage', scope: 'C-429', at: clock }]);
    // Another channel is not affected, and once the time is up the channel is free again.
    expect((await post('C-other')).ok).toBe(true);
    clock += 1;
    expect((await post('C-429')).ok).toBe(true);
    expect(server.violations).toHaveLength(1);
  });

  it('counts a chat.postMessage beyond the token bucket as a violation, and the request after its 429 too', async () => {
    server.reset();
    expect((await post('C-fast')).ok).toBe(true);
    expect((await post('C-fast')).ok).toBe(true);
    expect((await rejectionOf(() => post('C-fast'))).code).toBe(ErrorCode.RateLimitedError);
    expect(server.violations.map((v) => v.kind)).toEqual(['rate_limit']);
    clock += 500; // the bucket's own 429 announced Retry-After: 1
    await rejectionOf(() => post('C-fast'));
    expect(server.violations.map((v) => v.kind)).toEqual(['rate_limit', 'retry_after', 'rate_limit']);
    clock += 2000;
    expect((await post('C-fast')).ok).toBe(true);
    expect(server.violations).toHaveLength(3);
  });

  it('answers 500 for a while (timed fault), then normally; a 5xx announces nothing', async () => {
    server.reset();
    server.inject({ status: 500, forMs: 1000 });
    const err = await rejectionOf(() => post('C-500'));
    expect(err.code).toBe(ErrorCode.HTTPError);
    expect(err.statusCode).toBe(500);
    clock += 999;
    expect((await rejectionOf(() => post('C-500'))).statusCode).toBe(500);
    clock += 1;
    expect((await post('C-500')).ok).toBe(true);
    expect(server.calls.map((c) => c.status)).toEqual([500, 500, 200]);
    expect(server.violations).toEqual([]);
  });

  it('answers a Slack error, or drops the connection, for the requests a fault matches', async () => {
    server.reset();
    clock += 10_000;
    server.inject({ error: 'channel_not_found', channel: 'C-gone', count: 2 });
    server.inject({ reset: true, method: 'chat.update', count: 1 });
    const gone = await rejectionOf(() => post('C-gone'));
    expect(gone.code).toBe(ErrorCode.PlatformError);
    expect((gone.data as { error: string }).error).toBe('channel_not_found');
    expect((await post('C-here')).ok).toBe(true); // another channel is not matched

    const dropped = await rejectionOf(() => client.chat.update({ channel: 'C-here', ts: '1.000001', text: 'edit' }));
    expect(dropped.code).toBe(ErrorCode.RequestError);
    expect((await client.chat.update({ channel: 'C-here', ts: '1.000001', text: 'edit' })).ok).toBe(true);
    expect(server.calls.map((c) => [c.method, c.status])).toEqual([
      ['chat.postMessage', 200],
      ['chat.postMessage', 200],
      ['chat.update', 0],
      ['chat.update', 200],
    ]);
    expect(server.calls[0]?.response).toEqual({ ok: false, error: 'channel_not_found' });
    expect(server.calls[1]?.response).toMatchObject({ ok: true, channel: 'C-here' });

    // reset() forgets faults that were not used up.
    server.reset();
    expect((await post('C-gone')).ok).toBe(true);
  });
});
