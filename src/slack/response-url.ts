import { setMaxListeners } from 'node:events';
import { createLimiter } from '../core/limiter.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, type Registry } from 'prom-client';
import { request } from 'undici';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../log.ts';
import { retryDelayMs } from './outbox/backoff.ts';

/** Slack accepts posts to a response_url for 30 minutes after the payload that carried it. */
export const RESPONSE_URL_LIFE_MS = 30 * 60_000;
/** Slack accepts at most five posts per response_url; we never try more often than that. */
export const MAX_RESPONSE_URL_ATTEMPTS = 5;

/** How one answer ended: posted, refused without a request, or given up after trying. */
export type ResponseUrlResult = 'delivered' | 'refused' | 'failed';
/** `retried` counts each further attempt, the others one per answer. */
export type ResponseUrlOutcome = ResponseUrlResult | 'retried';

/** A URL to post to, or why not (with the host alone, for the log). */
export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string; host: string };

/**
 * Where a response_url may point: https on Slack's hosts (hooks.slack.com and the other
 * subdomains of slack.com), or the origin of the configured SLACK_API_URL (tests and local
 * stand-ins). A signed payload is Slack's, but what it names is still input: without this check a
 * payload could make Vigil POST to loopback or a cloud metadata address.
 */
export function checkResponseUrl(raw: string | undefined, extraOrigin: string | null): UrlVerdict {
  if (raw === undefined || raw === '') return { ok: false, reason: 'no response_url in the payload', host: '-' };
  if (!URL.canParse(raw)) return { ok: false, reason: 'not a URL', host: '-' };
  const url = new URL(raw);
  const host = url.host;
  // Credentials in the URL would be sent as Basic auth to whoever the host is.
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'credentials in the URL', host };
  if (extraOrigin !== null && url.origin === extraOrigin) return { ok: true, url };
  if (url.protocol !== 'https:') return { ok: false, reason: 'not https', host };
  // `port` is '' for https's default 443; any other port is not Slack's.
  if (url.port !== '') return { ok: false, reason: 'not Slack (port)', host };
  if (!url.hostname.endsWith('.slack.com')) return { ok: false, reason: 'not a Slack host', host };
  return { ok: true, url };
}

/** The origin (scheme, host, port) of SLACK_API_URL, or null when Slack's own API is used. */
export function originOf(slackApiUrl: string | undefined): string | null {
  return slackApiUrl && URL.canParse(slackApiUrl) ? new URL(slackApiUrl).origin : null;
}

export interface ResponseUrlPosterOptions {
  /** SLACK_API_URL: its origin is accepted besides Slack's hosts. */
  slackApiUrl: string | undefined;
  log: Logger;
  /** Where `vigil_response_url_posts_total` is registered; none when omitted. */
  registry?: Registry;
  /** Per attempt; a slower answer counts as a network error (default 10 s). */
  attemptTimeoutMs?: number;
  /** Posts in flight at once; the others wait their turn before their attempt's clock starts (default 32). */
  maxInFlight?: number;
  /** Backoff between attempts after a 5xx or network error (default 1 s doubling, at most 15 s). */
  retry?: { baseDelayMs: number; maxDelayMs: number };
  now?: () => number;
}

export interface ResponseUrlPoster {
  /**
   * POST `message` as JSON to `url`, retrying within the URL's life. `receivedAt` is when the payload
   * that carried the URL arrived; `what` names the answer in logs. Never throws.
   */
  post(url: string | undefined, message: object, receivedAt: number, what: string): Promise<ResponseUrlResult>;
  /**
   * Shutdown: an answer waiting for its next attempt makes it now, and nothing is retried from here
   * on. Waiting out a long Retry-After would hold the shutdown; giving up untried would lose more.
   */
  close(): void;
  /**
   * Shutdown with a grace: answers already being posted (or waiting to retry) keep their normal
   * retries for up to `graceMs`; then close(), and resolves once every one has settled. Posts that
   * start meanwhile (a command finishing during the drain) are waited for too.
   */
  drain(graceMs: number): Promise<void>;
}

/** What one attempt came to: done, or worth another try (after `waitMs` when the server said so). */
type Attempt = { kind: 'delivered' } | { kind: 'final'; detail: string } | { kind: 'retry'; detail: string; waitMs?: number };

const DEFAULT_RETRY = { baseDelayMs: 1000, maxDelayMs: 15_000 };
const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_IN_FLIGHT = 32;
// Slack's error bodies are short words (used_url, expired_url, invalid_blocks): enough to log them.
const ERROR_BODY_CHARS = 100;

export function createResponseUrlPoster(opts: ResponseUrlPosterOptions): ResponseUrlPoster {
  const extraOrigin = originOf(opts.slackApiUrl);
  const now = opts.now ?? Date.now;
  const retry = opts.retry ?? DEFAULT_RETRY;
  const attemptTimeoutMs = opts.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
  // Without a limit a burst of deferred answers opens a socket each at once, and attempts time out
  // while queued: a timed-out post that Slack did take is posted again, so the user sees it twice.
  const inTurn = createLimiter(opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  const closing = new AbortController();
  // Every answer waiting for a retry listens on it (hundreds during a Slack outage); not a leak.
  setMaxListeners(0, closing.signal);
  const counter = opts.registry
    ? new Counter({
        name: 'vigil_response_url_posts_total',
        help: 'Answers posted to a response_url, by outcome: delivered, refused (not a Slack URL, no request made), failed (gave up), and retried (each further attempt)',
        labelNames: ['outcome'] as const,
        registers: [opts.registry],
      })
    : null;
  const count = (outcome: ResponseUrlOutcome) => counter?.inc({ outcome });
  const pending = new Set<Promise<ResponseUrlResult>>();
  const settled = async (): Promise<void> => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };

  async function attempt(url: URL, body: string, timeoutMs: number): Promise<Attempt> {
    try {
      // undici's request never follows redirects: a 3xx comes back as it is.
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = res.statusCode >= 400 ? (await res.body.text()).slice(0, ERROR_BODY_CHARS) : (await res.body.dump(), '');
      const status = res.statusCode;
      if (status >= 200 && status < 300) return { kind: 'delivered' };
      if (status >= 300 && status < 400) return { kind: 'final', detail: `HTTP ${status} redirect, not followed` };
      if (status === 429) return { kind: 'retry', detail: 'HTTP 429', ...retryAfterMs(res.headers['retry-after'], now()) };
      if (status >= 500) return { kind: 'retry', detail: `HTTP ${status}` };
      return { kind: 'final', detail: `HTTP ${status} ${text}`.trim() };
    } catch (err) {
      // The message of a connection error names host and port at most, never the path (the secret part).
      return { kind: 'retry', detail: describeError(err).split(url.href).join(url.host) };
    }
  }

  async function post(raw: string | undefined, message: object, receivedAt: number, what: string): Promise<ResponseUrlResult> {
    const verdict = checkResponseUrl(raw, extraOrigin);
    if (!verdict.ok) {
      // Only the host: the path of a response_url is what authorises posting to it.
      opts.log.warn({ host: verdict.host, reason: verdict.reason }, `response_url refused for ${what}; nothing sent`);
      count('refused');
      return 'refused';
    }
    const { url } = verdict;
    const deadline = receivedAt + RESPONSE_URL_LIFE_MS;
    const body = JSON.stringify(message);
    let last = 'not tried';
    for (let n = 1; n <= MAX_RESPONSE_URL_ATTEMPTS; n++) {
      const result = await inTurn(() => {
        // Checked once in turn: waiting for a slot counts against the URL's life too.
        const left = deadline - now();
        return left > 0 ? attempt(url, body, Math.min(attemptTimeoutMs, left)) : Promise.resolve<Attempt>({ kind: 'final', detail: `${last}; the URL expired` });
      });
      if (result.kind === 'delivered') {
        count('delivered');
        return 'delivered';
      }
      last = result.detail;
      if (result.kind === 'final' || n === MAX_RESPONSE_URL_ATTEMPTS) break;
      if (closing.signal.aborted) {
        last = `${last}; no retry while shutting down`;
        break;
      }
      const waitMs = result.waitMs ?? retryDelayMs(n, retry);
      if (now() + waitMs >= deadline) {
        last = `${last}; a retry would come after the URL expired`;
        break;
      }
      count('retried');
      opts.log.warn({ host: url.host, attempt: n, waitMs, detail: result.detail }, `response_url post for ${what} failed; retrying`);
      // Cut short by close(): the next attempt goes out at once and is the last.
      await sleep(waitMs, undefined, { signal: closing.signal }).catch(() => undefined);
    }
    count('failed');
    opts.log.error({ host: url.host, detail: last }, `response_url post for ${what} failed; the answer is lost`);
    return 'failed';
  }

  return {
    post(raw, message, receivedAt, what) {
      const posting = post(raw, message, receivedAt, what);
      pending.add(posting);
      void posting.finally(() => pending.delete(posting));
      return posting;
    },
    close() {
      closing.abort();
    },
    async drain(graceMs) {
      await Promise.race([settled(), sleep(graceMs, undefined, { ref: false })]);
      closing.abort();
      await settled();
    },
  };
}

/** Retry-After in seconds or as an HTTP date; nothing when absent or unreadable (backoff decides). */
function retryAfterMs(header: string | string[] | undefined, nowMs: number): { waitMs?: number } {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return {};
  if (/^\d+$/.test(value.trim())) return { waitMs: Number(value.trim()) * 1000 };
  const date = Date.parse(value);
  return Number.isNaN(date) ? {} : { waitMs: Math.max(0, date - nowMs) };
}
