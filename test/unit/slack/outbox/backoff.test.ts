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
