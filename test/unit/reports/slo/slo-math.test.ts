import { describe, expect, it } from 'vitest';
import { budgetLastsMs, budgetRemaining, burnRate, compliance, errorBudget, errorRatio, isBurning } from '../../../../src/reports/slo/slo-math.ts';

/** The SRE workbook's own figures (chapter 5, "Alerting on SLOs"), and the example. */
const DAY = 86_400_000;

describe('SLO arithmetic', () => {
  it('error ratio is errors over total; no traffic is no answer, not 0 % or 100 %', () => {
    expect(errorRatio(5, 100)).toBeCloseTo(0.05, 12);
    expect(errorRatio(0, 100)).toBe(0);
    expect(errorRatio(0, 0)).toBeNull();
    expect(errorRatio(Number.NaN, 100)).toBeNull();
    expect(errorRatio(1, Number.POSITIVE_INFINITY)).toBeNull();
    // Two series scraped a moment apart can say 101 errors of 100 requests: capped at all of them.
    expect(errorRatio(101, 100)).toBe(1);
  });

  it('a 99.9 % objective leaves a 0.1 % budget; compliance is the share that succeeded', () => {
    expect(errorBudget(99.9)).toBeCloseTo(0.001, 12);
    expect(errorBudget(99.5)).toBeCloseTo(0.005, 12);
    expect(compliance(0.0004)).toBeCloseTo(0.9996, 12);
  });

  it('budget remaining: untouched at 0 errors, half at half the budget, exhausted (≤ 0) past it', () => {
    expect(budgetRemaining(0, 99.9)).toBe(1);
    expect(budgetRemaining(0.0005, 99.9)).toBeCloseTo(0.5, 9);
    expect(budgetRemaining(0.001, 99.9)).toBeCloseTo(0, 9);
    // The case: an exporter failing 5 % against a 99 % objective spends the budget 5 times over.
    expect(budgetRemaining(0.05, 99)).toBeCloseTo(-4, 9);
  });

  it('burn rate is the error ratio over the budget: 14.4× for 1.44 % errors against 99.9 %', () => {
    expect(burnRate(0.0144, 99.9)).toBeCloseTo(14.4, 9);
    expect(burnRate(0.001, 99.9)).toBeCloseTo(1, 9);
    expect(burnRate(0.05, 99)).toBeCloseTo(5, 9);
    // The budget is below 1: a ratio over it must come out larger than the ratio, never smaller.
    expect(burnRate(0.0005, 99.9)).toBeGreaterThan(0.0005);
  });

  it('a burn alert needs both windows above its factor', () => {
    expect(isBurning(15, 16, 14.4)).toBe(true);
    expect(isBurning(15, 2, 14.4)).toBe(false); // the short window says it has stopped: reset
    expect(isBurning(2, 16, 14.4)).toBe(false); // a blip in the short window alone
    expect(isBurning(14.4, 20, 14.4)).toBe(false); // "exceeds": equal is not above
  });

  it('at 14.4× a 30-day budget lasts a little over two days; nothing burning lasts for ever', () => {
    expect(budgetLastsMs(14.4, 30 * DAY)).toBeCloseTo((30 * DAY) / 14.4, 3);
    expect(budgetLastsMs(0, 30 * DAY)).toBeNull();
  });
});
