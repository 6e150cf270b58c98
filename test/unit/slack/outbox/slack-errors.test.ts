import { describe, expect, it } from 'vitest';
import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError } from '@slack/web-api';
import { classifySlackError } from '../../../../src/slack/outbox/slack-errors.ts';

const platform = (error: string, extra: Record<string, unknown> = {}) => new WebAPIPlatformError({ ok: false, error, ...extra });

describe('classifySlackError', () => {
  it('holds the channel for Retry-After on 429, at least a second', () => {
    expect(classifySlackError(new WebAPIRateLimitedError(3))).toEqual({ kind: 'rate_limited', retryAfterMs: 3000 });
    expect(classifySlackError(new WebAPIRateLimitedError(0))).toEqual({ kind: 'rate_limited', retryAfterMs: 1000 });
    expect(classifySlackError(platform('ratelimited', { response_metadata: { retryAfter: 2 } }))).toEqual({ kind: 'rate_limited', retryAfterMs: 2000 });
  });

  it('retries 5xx, 408, network errors and Slack errors that say "later"', () => {
    expect(classifySlackError(new WebAPIHTTPError(500, 'x', {}))).toEqual({ kind: 'retryable', reason: 'http_500' });
    expect(classifySlackError(new WebAPIHTTPError(503, 'x', {}))).toEqual({ kind: 'retryable', reason: 'http_503' });
    expect(classifySlackError(new WebAPIHTTPError(408, 'x', {}))).toEqual({ kind: 'retryable', reason: 'http_408' });
    expect(classifySlackError(new WebAPIRequestError(new Error('ECONNRESET')))).toEqual({ kind: 'retryable', reason: 'network_error' });
    expect(classifySlackError(platform('internal_error'))).toEqual({ kind: 'retryable', reason: 'internal_error' });
    expect(classifySlackError(platform('service_unavailable')).kind).toBe('retryable');
    // A 429 without a usable Retry-After reaches us as a plain Error.
    expect(classifySlackError(new Error('Retry header did not contain a valid timeout')).kind).toBe('retryable');
  });

  it('fails at once on errors about the request itself', () => {
    for (const error of ['channel_not_found', 'not_in_channel', 'invalid_blocks', 'msg_too_long', 'invalid_auth', 'is_archived', 'message_not_found', 'something_new']) {
      expect(classifySlackError(platform(error))).toEqual({ kind: 'permanent', reason: error });
    }
    expect(classifySlackError(new WebAPIHTTPError(413, 'Payload Too Large', {}))).toEqual({ kind: 'permanent', reason: 'http_413' });
  });
});
