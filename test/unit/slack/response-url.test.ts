/**
 * The response_url poster on its own: which URLs it accepts (without any request for the others),
 * and how it retries against the Slack stand-in failing on purpose. Timings are shortened through
 * the poster's options; the bot's defaults are exercised in test/e2e/response-url.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkResponseUrl, createResponseUrlPoster, originOf, RESPONSE_URL_LIFE_MS, type ResponseUrlPosterOptions } from '../../../src/slack/response-url.ts';
import { startSlackApiServer, type SlackApiServer } from '../../support/slack-api-server.ts';

describe('checkResponseUrl', () => {
  const STAND_IN = 'http://127.0.0.1:4000';
  const accepted = [
    'https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN',
    'https://hooks.slack.com/actions/T1/2/abc',
    'https://HOOKS.Slack.com/commands/T1/2/abc',
    'https://hooks.slack.com:443/commands/T1/2/abc',
    'https://files.slack.com/x',
    // The configured SLACK_API_URL's origin: scheme, host and port all equal.
    'http://127.0.0.1:4000/response/abc',
  ];
  const refused: Array<[string | undefined, string]> = [
    [undefined, 'no response_url'],
    ['', 'no response_url'],
    ['not a url', 'not a URL'],
    ['http://hooks.slack.com/commands/T1/2/abc', 'not https'],
    ['https://hooks.slack.com:8443/commands/T1/2/abc', 'port'],
    ['https://slack.com/commands/T1/2/abc', 'not a Slack host'],
    ['https://evilslack.com/x', 'not a Slack host'],
    ['https://hooks.slack.com.evil.example/x', 'not a Slack host'],
    ['https://hooks.slack.com./x', 'not a Slack host'],
    ['https://hooks.slack.com@evil.example/x', 'credentials'],
    ['https://user:pw@hooks.slack.com/x', 'credentials'],
    ['http://169.254.169.254/latest/meta-data/', 'not https'],
    ['https://169.254.169.254/latest/meta-data/', 'not a Slack host'],
    ['http://127.0.0.1:4001/response/abc', 'not https'],
    ['https://127.0.0.1:4000/response/abc', 'port'],
    ['http://localhost:4000/response/abc', 'not https'],
    ['https://[::1]/x', 'not a Slack host'],
    ['file:///etc/passwd', 'not https'],
  ];

  it.each(accepted)('accepts %s', (url) => {
    expect(checkResponseUrl(url, STAND_IN)).toMatchObject({ ok: true });
  });

  it.each(refused)('refuses %s (%s)', (url, reason) => {
    const verdict = checkResponseUrl(url, STAND_IN);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toContain(reason);
  });

  it('accepts no local origin at all when SLACK_API_URL is not set', () => {
    expect(checkResponseUrl('http://127.0.0.1:4000/response/abc', originOf(undefined))).toMatchObject({ ok: false });
    expect(checkResponseUrl('https://hooks.slack.com/commands/T1/2/abc', originOf(undefined))).toMatchObject({ ok: true });
  });

  it('takes the origin of SLACK_API_URL, path and credentials left out', () => {
    expect(originOf('http://127.0.0.1:4000/api/')).toBe(STAND_IN);
    expect(originOf('https://u:p@slack.example:8443/api/')).toBe('https://slack.example:8443');
    expect(originOf('https://slack.com/api/')).toBe('https://slack.com');
    expect(originOf(undefined)).toBeNull();
  });
});

describe('createResponseUrlPoster against the Slack stand-in', () => {
  let slack: SlackApiServer;
  /** Something that is not Slack: it must never see a request. */
  let trap: Server;
  let trapUrl: string;
  let trapHits = 0;
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  const message = { text: 'the answer', response_type: 'ephemeral' };

  beforeAll(async () => {
    slack = await startSlackApiServer();
    trap = createServer((req, res) => {
      trapHits += 1;
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    slack.reset();
    lines.length = 0;
  });
  afterAll(async () => {
    await slack?.close();
    trap?.closeAllConnections();
    await new Promise<void>((resolve) => trap?.close(() => resolve()));
  });

  function poster(extra: Partial<ResponseUrlPosterOptions> = {}) {
    const registry = new Registry();
    const p = createResponseUrlPoster({ slackApiUrl: `${slack.url}/api/`, log, registry, retry: { baseDelayMs: 20, maxDelayMs: 80 }, attemptTimeoutMs: 2000, ...extra });
    const count = async (outcome: string) => {
      const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'vigil_response_url_posts_total');
      return metric?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
    };
    return { p, count };
  }
  const secretId = () => `T0/${randomBytes(8).toString('hex')}`;
  const postsTo = (id: string) => slack.responses.filter((r) => r.path === `/response/${encodeURIComponent(id)}`);

  it('retries a 500 and delivers exactly once', async () => {
    const { p, count } = poster();
    const id = secretId();
    slack.injectResponseUrl({ status: 500, count: 2, id });
    expect(await p.post(slack.responseUrl(id), message, Date.now(), '/test')).toBe('delivered');
    expect(postsTo(id).map((r) => r.status)).toEqual([500, 500, 200]);
    expect(postsTo(id)[2]?.body).toEqual(message);
    expect([await count('retried'), await count('delivered'), await count('failed')]).toEqual([2, 1, 0]);
  });

  it('waits out Retry-After on a 429 before trying again', async () => {
    const { p } = poster();
    const id = secretId();
    slack.injectResponseUrl({ status: 429, retryAfter: 1, count: 1, id });
    expect(await p.post(slack.responseUrl(id), message, Date.now(), '/test')).toBe('delivered');
    const [limited, ok] = postsTo(id);
    expect([limited?.status, ok?.status]).toEqual([429, 200]);
    expect((ok?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('gives up a post that hangs after its timeout and tries again', async () => {
    // Long enough that the second attempt, not hung, never times out on a loaded machine.
    const { p } = poster({ attemptTimeoutMs: 1000 });
    const id = secretId();
    slack.injectResponseUrl({ hang: true, count: 1, id });
    expect(await p.post(slack.responseUrl(id), message, Date.now(), '/test')).toBe('delivered');
    expect(postsTo(id).map((r) => r.status)).toEqual([0, 200]);
  });

  it('retries a connection that is dropped', async () => {
    let seen = 0;
    const flaky = createServer((req, res) => {
      seen += 1;
      if (seen === 1) return void req.socket.destroy();
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`;
    try {
      const { p, count } = poster({ slackApiUrl: `${origin}/api/` });
      expect(await p.post(`${origin}/response/x`, message, Date.now(), '/test')).toBe('delivered');
      expect([seen, await count('retried')]).toEqual([2, 1]);
    } finally {
      flaky.closeAllConnections();
      await new Promise<void>((resolve) => flaky.close(() => resolve()));
    }
  });

  it('stops after five attempts', async () => {
    const { p, count } = poster();
    const id = secretId();
    slack.injectResponseUrl({ status: 503, id });
    expect(await p.post(slack.responseUrl(id), message, Date.now(), '/test')).toBe('failed');
    expect(postsTo(id)).toHaveLength(5);
    expect([await count('retried'), await count('failed')]).toEqual([4, 1]);
  });

  it.each([302, 307])('does not follow a %i redirect, nor post again', async (status) => {
    const { p, count } = poster();
    const id = secretId();
    const target = `moved-${secretId()}`;
    slack.injectResponseUrl({ redirect: { status, to: `/response/${encodeURIComponent(target)}` }, id });
    expect(await p.post(slack.responseUrl(id), message, Date.now(), '/test')).toBe('failed');
    expect(postsTo(id).map((r) => r.status)).toEqual([status]);
    expect(postsTo(target)).toEqual([]);
    expect(await count('retried')).toBe(0);
    expect(lines.join('\n')).toContain(`HTTP ${status} redirect, not followed`);
  });

  it('does not retry what Slack refuses for good (4xx)', async () => {
    const { p } = poster();
    const id = secretId();
    slack.injectResponseUrl({ status: 404, id });
    expect(await p.post(slack.responseUrl(id), message, Date.now(), '/test')).toBe('failed');
    expect(postsTo(id)).toHaveLength(1);
  });

  it('never posts past the URL’s 30 minutes', async () => {
    const { p } = poster();
    const expired = secretId();
    expect(await p.post(slack.responseUrl(expired), message, Date.now() - RESPONSE_URL_LIFE_MS - 1, '/test')).toBe('failed');
    expect(postsTo(expired)).toEqual([]);

    // A Retry-After reaching past the URL's life: no waiting, no second post.
    const late = secretId();
    slack.injectResponseUrl({ status: 429, retryAfter: 60, id: late });
    const started = Date.now();
    expect(await p.post(slack.responseUrl(late), message, Date.now() - RESPONSE_URL_LIFE_MS + 30_000, '/test')).toBe('failed');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(postsTo(late)).toHaveLength(1);
  });

  it('refuses hosts that are not Slack without a request, logging only the host', async () => {
    const { p, count } = poster();
    const token = randomBytes(12).toString('hex');
    for (const url of [`${trapUrl}/response/${token}`, `http://169.254.169.254/latest/meta-data/${token}`, `http://localhost:${new URL(slack.url).port}/response/${token}`]) {
      expect(await p.post(url, message, Date.now(), '/test')).toBe('refused');
    }
    expect(trapHits).toBe(0);
    expect(slack.responses).toEqual([]);
    expect(await count('refused')).toBe(3);
    const logged = lines.join('\n');
    expect(logged).toContain('169.254.169.254');
    expect(logged).not.toContain(token);
  });

  it('never logs the path of a URL it failed to post to', async () => {
    const { p } = poster();
    const id = secretId();
    slack.injectResponseUrl({ status: 500, id });
    expect(await p.post(slack.responseUrl(id), message, Date.now(), '/test')).toBe('failed');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(encodeURIComponent(id));
  });

  it('keeps at most maxInFlight posts open at once, and delivers every one of a burst once', async () => {
    let open = 0;
    let most = 0;
    let received = 0;
    const slow = createServer((req, res) => {
      open += 1;
      most = Math.max(most, open);
      req.resume();
      setTimeout(() => {
        open -= 1;
        received += 1;
        res.end('ok');
      }, 100);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    try {
      const { p } = poster({ slackApiUrl: `${origin}/api/`, maxInFlight: 3 });
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => p.post(`${origin}/response/${i}`, message, Date.now(), '/test')));
      expect(results).toEqual(Array.from({ length: 12 }, () => 'delivered'));
      expect(received).toBe(12);
      // At least two at once shows they overlap at all; more than three would break the limit.
      expect(most).toBeGreaterThanOrEqual(2);
      expect(most).toBeLessThanOrEqual(3);
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });

  it('drain: answers keep their retries within the grace, then the rest go out at once; drain waits for all', async () => {
    const { p } = poster();
    const retried = secretId();
    const parked = secretId();
    slack.injectResponseUrl({ status: 500, count: 2, id: retried });
    slack.injectResponseUrl({ status: 429, retryAfter: 600, count: 1, id: parked });
    const started = Date.now();
    const results: string[] = [];
    for (const id of [retried, parked]) void p.post(slack.responseUrl(id), message, Date.now(), '/test').then((r) => results.push(`${id === retried ? 'retried' : 'parked'} ${r}`));
    await slack.waitFor(() => lines.filter((l) => l.includes('retrying')).length >= 2);
    await p.drain(3000);
    // Settled by the time drain resolves: the 500s retried normally, the 600 s wait was cut at the grace.
    expect(results).toEqual(['retried delivered', 'parked delivered']);
    expect(postsTo(retried)).toHaveLength(3);
    expect(postsTo(parked)).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('on close, makes a waiting answer’s next attempt at once and retries no more', async () => {
    const { p } = poster();
    const id = secretId();
    slack.injectResponseUrl({ status: 429, retryAfter: 600, count: 1, id });
    const started = Date.now();
    const result = p.post(slack.responseUrl(id), message, Date.now(), '/test');
    // Logged just before it starts waiting: from here the poster sits out the 600 s.
    await slack.waitFor(() => lines.some((l) => l.includes('retrying')));
    p.close();
    expect(await result).toBe('delivered');
    expect(Date.now() - started).toBeLessThan(5000);

    const after = secretId();
    slack.injectResponseUrl({ status: 500, id: after });
    expect(await p.post(slack.responseUrl(after), message, Date.now(), '/test')).toBe('failed');
    expect(postsTo(after)).toHaveLength(1);
  });
});
