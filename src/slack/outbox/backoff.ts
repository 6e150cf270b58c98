import type { OutboxRetry } from './types.ts';

/** The name job options carry so BullMQ asks the worker's strategy below for the delay. */
export const BACKOFF_TYPE = 'outbox';

/**
 * Delay before retry number `attemptsMade` (1 for the first retry): exponential, capped at
 * `maxDelayMs`, with "equal jitter" — between half and all of the step — so replicas retrying after
 * the same Slack outage spread out, yet nobody retries almost at once.
 */
export function retryDelayMs(attemptsMade: number, retry: Pick<OutboxRetry, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const step = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}
