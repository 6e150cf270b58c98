import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../../../src/slack/outbox/backoff.ts';

describe('retryDelayMs', () => {
  const retry = { baseDelayMs: 1000, maxDelayMs: 60_000 };

  it('doubles per attempt, between half and all of the step', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, retry, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, retry, () => 1))).toEqual([1000, 2000, 4000, 8000]);
  });

  it('never exceeds the cap, however many attempts', () => {
    expect(retryDelayMs(7, retry, () => 1)).toBe(60_000);
    expect(retryDelayMs(40, retry, () => 1)).toBe(60_000);
    expect(retryDelayMs(40, retry, () => 0)).toBe(30_000);
  });

  it('spreads retries: two replicas rarely pick the same delay', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(5, retry)));
    expect(delays.size).toBeGreaterThan(40);
  });
});

describe('the default retry', () => {
  it('resumes within 5 s of Slack recovering, and still tries for at least 12 minutes', async () => {
    const { DEFAULT_RETRY } = await import('../../../../src/slack/outbox/types.ts');
    const longest = Math.max(...Array.from({ length: DEFAULT_RETRY.attempts }, (_, i) => retryDelayMs(i + 1, DEFAULT_RETRY, () => 1)));
    expect(longest).toBeLessThanOrEqual(5000);
    // The shortest it can be with jitter (each wait half its step).
    const least = Array.from({ length: DEFAULT_RETRY.attempts - 1 }, (_, i) => retryDelayMs(i + 1, DEFAULT_RETRY, () => 0)).reduce((a, b) => a + b, 0);
    expect(least).toBeGreaterThanOrEqual(12 * 60_000);
  });
});
