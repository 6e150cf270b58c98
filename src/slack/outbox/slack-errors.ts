import { ErrorCode } from '@slack/web-api';

/** What a failed Slack write means for the outbox. */
export type SlackFailure =
  /** 429: hold the channel for `retryAfterMs`; the attempt does not count. */
  | { kind: 'rate_limited'; retryAfterMs: number }
  /** 5xx, network error, timeout, Slack's own transient errors: retry with backoff. */
  | { kind: 'retryable'; reason: string }
  /** The request itself is wrong (channel gone, bad blocks, bad token…): retrying cannot help. */
  | { kind: 'permanent'; reason: string };

/**
 * Slack errors that say "try again later". Any other platform error is about the request
 * (`channel_not_found`, `not_in_channel`, `invalid_blocks`, `msg_too_long`, `invalid_auth`,
 * `is_archived`, `message_not_found`, …) and fails at once: a message retried for 17 minutes holds
 * up every later message to its channel, so only errors known to pass are worth waiting for.
 */
const RETRYABLE_PLATFORM_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);

// Slack says 0 or forgets the header now and then; never hammer a channel that just said 429.
const MIN_RETRY_AFTER_MS = 1000;

type Coded = { code?: unknown; retryAfter?: unknown; statusCode?: unknown; data?: { error?: unknown; response_metadata?: { retryAfter?: unknown } } };

export function classifySlackError(err: unknown): SlackFailure {
  const e = (typeof err === 'object' && err !== null ? err : {}) as Coded;
  switch (e.code) {
    case ErrorCode.RateLimitedError:
      return { kind: 'rate_limited', retryAfterMs: retryAfterMs(e.retryAfter) };
    case ErrorCode.PlatformError: {
      const error = typeof e.data?.error === 'string' ? e.data.error : 'unknown_error';
      if (error === 'ratelimited') return { kind: 'rate_limited', retryAfterMs: retryAfterMs(e.data?.response_metadata?.retryAfter) };
      return RETRYABLE_PLATFORM_ERRORS.has(error) ? { kind: 'retryable', reason: error } : { kind: 'permanent', reason: error };
    }
    case ErrorCode.HTTPError: {
      const status = typeof e.statusCode === 'number' ? e.statusCode : 0;
      // Slack's Web API answers 200 for its own errors; other statuses come from its edge.
      const retry = status >= 500 || status === 408 || status === 0;
      return { kind: retry ? 'retryable' : 'permanent', reason: `http_${status}` };
    }
    case ErrorCode.RequestError:
      return { kind: 'retryable', reason: 'network_error' };
    default:
      // Includes a 429 without a usable Retry-After (the WebClient throws a plain Error for it).
      return { kind: 'retryable', reason: 'unexpected_error' };
  }
}

function retryAfterMs(seconds: unknown): number {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? Math.max(MIN_RETRY_AFTER_MS, Math.ceil(seconds * 1000)) : MIN_RETRY_AFTER_MS;
}
