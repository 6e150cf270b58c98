import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ErrorCode, LogLevel, WebClient } from '@slack/web-api';
import { blockText, startSlackApiServer, validateBlocks } from '../support/slack-api-server.ts';
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
    const { ts } = await client.chat.postMessage({ channel: 'C-upd', text: 'original' });
    const res = await fetch(`${server.url}/api/chat.update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ channel: 'C-upd', ts, text: 'edited', blocks: [section('edited')] }),
    });
    expect(await res.json()).toEqual({ ok: true, channel: 'C-upd', ts, text: 'edited' });
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

    const ts = server.calls[1]?.response.ts as string;
    const dropped = await rejectionOf(() => client.chat.update({ channel: 'C-here', ts, text: 'edit' }));
    expect(dropped.code).toBe(ErrorCode.RequestError);
    expect(server.messageTexts('C-here')).toEqual(['x']); // a dropped request changed nothing
    expect((await client.chat.update({ channel: 'C-here', ts, text: 'edit' })).ok).toBe(true);
    expect(server.messageTexts('C-here')).toEqual(['edit']);
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

describe('slack-api-server message store', () => {
  let server: SlackApiServer;
  let clock = 1_700_000_000_000;
  let client: WebClient;

  beforeAll(async () => {
    // Generous posting limits: these tests are about what the channels show, not about pacing.
    server = await startSlackApiServer({ now: () => clock, perChannelPerSecond: 100, burst: 100 });
    client = clientFor(server);
  });
  afterAll(async () => {
    await server.close();
  });

  const header = (text: string) => ({ type: 'header', text: { type: 'plain_text', text } });

  it('shows what was posted, and an update replaces it in place, keeping the history', async () => {
    server.reset();
    const firing = [header('DiskFull on db-1'), section('*firing* since 10:02')];
    const posted = await client.chat.postMessage({ channel: 'C-alerts', text: 'DiskFull firing', blocks: firing });
    expect(server.messages('C-alerts')).toEqual([
      {
        channel: 'C-alerts',
        ts: posted.ts,
        text: 'DiskFull firing',
        blocks: firing,
        postedAt: clock,
        updates: 0,
        history: [{ text: 'DiskFull firing', blocks: firing, at: clock }],
      },
    ]);
    const [stored] = server.messages('C-alerts');

    clock += 5000;
    const resolved = [header('DiskFull on db-1'), section('*resolved* at 10:07')];
    const res = await client.chat.update({ channel: 'C-alerts', ts: posted.ts as string, text: 'DiskFull resolved', blocks: resolved });
    expect(res).toMatchObject({ ok: true, channel: 'C-alerts', ts: posted.ts, text: 'DiskFull resolved' });

    // One message, edited: nothing was posted twice.
    expect(server.messages('C-alerts')).toHaveLength(1);
    expect(stored).toMatchObject({ text: 'DiskFull resolved', blocks: resolved, updates: 1 });
    expect(stored?.history.map((h) => [h.text, h.at])).toEqual([
      ['DiskFull firing', clock - 5000],
      ['DiskFull resolved', clock],
    ]);
    expect(server.messageTexts('C-alerts')).toEqual(['DiskFull resolved']);
    expect(blockText(stored?.blocks)).toBe('DiskFull on db-1\n*resolved* at 10:07');

    // Text alone keeps the blocks (as Slack does); an empty array removes them.
    await client.chat.update({ channel: 'C-alerts', ts: posted.ts as string, text: 'DiskFull acknowledged' });
    expect(stored).toMatchObject({ text: 'DiskFull acknowledged', blocks: resolved, updates: 2 });
    await client.chat.update({ channel: 'C-alerts', ts: posted.ts as string, text: 'plain', blocks: [] });
    expect(stored).toMatchObject({ text: 'plain', blocks: [], updates: 3 });
    expect(stored?.history).toHaveLength(4);
  });

  it('answers message_not_found for a ts never posted, or posted in another channel', async () => {
    server.reset();
    const { ts } = await client.chat.postMessage({ channel: 'C-one', text: 'here' });
    const update = (channel: string, at: string) =>
      rejectionOf(() => client.chat.update({ channel, ts: at, text: 'edit' })).then((e) => (e.data as { error: string }).error);
    expect(await update('C-one', '1.000001')).toBe('message_not_found');
    expect(await update('C-two', ts as string)).toBe('message_not_found');
    expect(server.calls.at(-1)).toMatchObject({ status: 200, response: { ok: false, error: 'message_not_found' } });
    expect(server.messages('C-one')).toMatchObject([{ text: 'here', updates: 0 }]);
    expect(server.messages('C-two')).toEqual([]);
  });

  it('records a thread reply with its threadTs and lists it by replies(), apart from topLevel()', async () => {
    server.reset();
    const parent = await client.chat.postMessage({ channel: 'C-thr', text: 'parent' });
    const other = await client.chat.postMessage({ channel: 'C-thr', text: 'other' });
    const r1 = await client.chat.postMessage({ channel: 'C-thr', text: 'reply 1', thread_ts: parent.ts as string });
    await client.chat.postMessage({ channel: 'C-elsewhere', text: 'elsewhere' });
    const r2 = await client.chat.postMessage({ channel: 'C-thr', text: 'reply 2', thread_ts: parent.ts as string });

    expect(server.replies('C-thr', parent.ts as string).map((m) => [m.ts, m.text, m.threadTs])).toEqual([
      [r1.ts, 'reply 1', parent.ts],
      [r2.ts, 'reply 2', parent.ts],
    ]);
    expect(server.replies('C-thr', other.ts as string)).toEqual([]);
    expect(server.topLevel('C-thr').map((m) => m.text)).toEqual(['parent', 'other']);
    expect(server.topLevel('C-thr')[0]).not.toHaveProperty('threadTs');
    expect(server.messageTexts('C-thr')).toEqual(['parent', 'other', 'reply 1', 'reply 2']);
    expect(server.messages().map((m) => m.text)).toEqual(['parent', 'other', 'reply 1', 'elsewhere', 'reply 2']);
  });

  it('answers invalid_thread_ts for a thread_ts that names no message in the channel, and stores nothing', async () => {
    server.reset();
    const { ts } = await client.chat.postMessage({ channel: 'C-p', text: 'parent' });
    const reply = (args: Record<string, unknown>) =>
      rejectionOf(() => client.apiCall('chat.postMessage', { text: 'reply', ...args })).then((e) => (e.data as { error: string }).error);
    expect(await reply({ channel: 'C-p', thread_ts: '1.000001' })).toBe('invalid_thread_ts');
    expect(await reply({ channel: 'C-q', thread_ts: ts })).toBe('invalid_thread_ts'); // the parent is in another channel
    expect(await reply({ channel: 'C-p', thread_ts: '' })).toBe('invalid_thread_ts');
    expect(server.calls.at(-1)?.status).toBe(200);
    expect(server.messages().map((m) => m.text)).toEqual(['parent']);
  });

  it('reset() forgets the stored messages too', async () => {
    const { ts } = await client.chat.postMessage({ channel: 'C-reset', text: 'before' });
    expect(server.messages('C-reset')).toHaveLength(1);
    server.reset();
    expect(server.messages()).toEqual([]);
    expect(server.messageTexts('C-reset')).toEqual([]);
    const err = await rejectionOf(() => client.chat.update({ channel: 'C-reset', ts: ts as string, text: 'after' }));
    expect((err.data as { error: string }).error).toBe('message_not_found');
  });

  it('blockText flattens what a person reads and leaves hidden text out', () => {
    const button = (text: string) => ({
      type: 'button',
      action_id: 'a',
      value: 'hidden-value',
      text: { type: 'plain_text', text },
      confirm: { title: { type: 'plain_text', text: 'hidden-confirm' }, text: { type: 'plain_text', text: 'hidden' } },
    });
    const blocks = [
      header('Header'),
      { type: 'section', text: { type: 'mrkdwn', text: 'Section' }, fields: [{ type: 'mrkdwn', text: 'F1' }, { type: 'plain_text', text: 'F2' }], accessory: button('Accessory') },
      { type: 'divider' },
      { type: 'context', elements: [{ type: 'image', image_url: 'https://x/y.png', alt_text: 'alt' }, { type: 'mrkdwn', text: 'Context' }] },
      { type: 'actions', elements: [button('Ack'), { type: 'static_select', action_id: 's', placeholder: { type: 'plain_text', text: 'hidden-ph' } }] },
      { type: 'rich_text', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'Rich ' }, { type: 'link', url: 'https://x', text: 'link' }] }] },
    ];
    expect(blockText(blocks)).toBe(['Header', 'Section', 'F1', 'F2', 'Accessory', 'Context', 'Ack', 'Rich ', 'link'].join('\n'));
    expect(blockText(blocks)).not.toMatch(/hidden|alt/);
    expect(blockText([])).toBe('');
    expect(blockText(undefined)).toBe('');
  });
});

describe('slack-api-server chat.update rate limit', () => {
  let clock = 1_700_000_000_000;

  it('is unlimited by default', async () => {
    const server = await startSlackApiServer({ now: () => clock });
    try {
      const client = clientFor(server);
      const { ts } = await client.chat.postMessage({ channel: 'C-free', text: 'v0' });
      for (let i = 1; i <= 100; i++) await client.chat.update({ channel: 'C-free', ts: ts as string, text: `v${i}` });
      expect(server.messages('C-free')[0]?.updates).toBe(100);
      expect(server.violations).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('enforces updatesPerMinute per workspace with a token bucket: 429, Retry-After and violations', async () => {
    // 6 a minute: one token every 10 s, and (by default) a minute's worth, 6, back to back.
    const server = await startSlackApiServer({ now: () => clock, perChannelPerSecond: 100, burst: 100, updatesPerMinute: 6 });
    try {
      const client = clientFor(server);
      const a = (await client.chat.postMessage({ channel: 'C-a', text: 'a' })).ts as string;
      const b = (await client.chat.postMessage({ channel: 'C-b', text: 'b' })).ts as string;
      const update = (channel: string, ts: string) => client.chat.update({ channel, ts, text: 'edit' });

      // An update for an unknown message is refused before it spends anything.
      expect(((await rejectionOf(() => update('C-a', '1.000001'))).data as { error: string }).error).toBe('message_not_found');
      for (let i = 0; i < 3; i++) await update('C-a', a);
      for (let i = 0; i < 3; i++) await update('C-b', b); // the allowance is shared by all channels
      const err = await rejectionOf(() => update('C-b', b));
      expect(err.code).toBe(ErrorCode.RateLimitedError);
      expect(err.retryAfter).toBe(10);
      expect(server.calls.at(-1)).toMatchObject({ method: 'chat.update', status: 429, response: { ok: false, error: 'ratelimited' } });
      expect(server.violations).toEqual([{ kind: 'rate_limit', method: 'chat.update', scope: 'chat.update', at: clock }]);
      // The refused update changed nothing; posting is not limited by it.
      expect(server.messages('C-b')[0]?.updates).toBe(3);
      expect((await client.chat.postMessage({ channel: 'C-a', text: 'still posts' })).ok).toBe(true);

      // Asking again before the announced Retry-After is punished too, on any channel.
      clock += 4000;
      expect((await rejectionOf(() => update('C-a', a))).retryAfter).toBe(6);
      expect(server.violations.map((v) => [v.kind, v.scope])).toEqual([
        ['rate_limit', 'chat.update'],
        ['retry_after', 'chat.update'],
        ['rate_limit', 'chat.update'],
      ]);

      clock += 10_000; // the second refusal announced Retry-After: 6; one token has refilled since
      expect((await update('C-a', a)).ok).toBe(true);
      expect(server.violations).toHaveLength(3);
      expect(server.messages('C-a')[0]?.updates).toBe(4);

      // reset() refills the bucket.
      server.reset();
      const c = (await client.chat.postMessage({ channel: 'C-c', text: 'c' })).ts as string;
      for (let i = 0; i < 6; i++) await update('C-c', c);
      expect(server.violations).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('updateBurst caps how many updates go out back to back', async () => {
    const server = await startSlackApiServer({ now: () => clock, updatesPerMinute: 60, updateBurst: 1 });
    try {
      const client = clientFor(server);
      const ts = (await client.chat.postMessage({ channel: 'C-burst', text: 'x' })).ts as string;
      expect((await client.chat.update({ channel: 'C-burst', ts, text: '1' })).ok).toBe(true);
      expect((await rejectionOf(() => client.chat.update({ channel: 'C-burst', ts, text: '2' }))).retryAfter).toBe(1);
      clock += 1000;
      expect((await client.chat.update({ channel: 'C-burst', ts, text: '3' })).ok).toBe(true);
      expect(server.messageTexts('C-burst')).toEqual(['3']);
    } finally {
      await server.close();
    }
  });
});
