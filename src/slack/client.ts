import { WebClient } from '@slack/web-api';
import type { Logger } from '../log.ts';
import { slackLibraryLogger } from './library-logger.ts';

export interface SlackClientOptions {
  token: string;
  /** Another Web API base URL (the tests' local stand-in); Slack's own when omitted. */
  slackApiUrl?: string;
  log: Logger;
  /** Per request; a write slower than this counts as a network error and is retried by the outbox. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The Web API client for the outbox. It neither waits out a 429 (by default the client pauses
 * its whole queue for Retry-After, then retries) nor retries by itself (by default for about 30
 * minutes): the outbox holds only the rate-limited channel and decides about retries per message.
 */
export function createSlackClient(opts: SlackClientOptions): WebClient {
  return new WebClient(opts.token, {
    ...(opts.slackApiUrl ? { slackApiUrl: opts.slackApiUrl } : {}),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    logger: slackLibraryLogger(opts.log, 'slack-web-api'),
  });
}
