/**
 * The SRE workbook's SLO arithmetic, pure so each step is tested on its own. Ratios are fractions
 * (0.05 = 5 %); the objective is a percentage as configured (99.5).
 *
 *   error ratio over W   = errors(W) / total(W)
 *   compliance over W    = 1 − error ratio
 *   error budget         = 1 − objective / 100          (the share of requests allowed to fail)
 *   budget remaining     = 1 − error ratio / budget     (≤ 0: exhausted)
 *   burn rate over w     = error ratio(w) / budget      (1 = spending exactly the budget over the window)
 */

/** errors / total; null when there was no traffic (nothing to judge), or a value is not a number. */
export function errorRatio(errors: number, total: number): number | null {
  if (!Number.isFinite(errors) || !Number.isFinite(total) || total <= 0 || errors < 0) return null;
  // Rates from separate series can disagree by a scrape: never more errors than requests.
  return Math.min(errors / total, 1);
}

/** The share of requests that may fail: 99.5 → 0.005. */
export function errorBudget(objectivePercent: number): number {
  return 1 - objectivePercent / 100;
}

export function compliance(ratio: number): number {
  return 1 - ratio;
}

/** The share of the budget still unspent over the window: 1 untouched, 0 spent, below 0 overspent. */
export function budgetRemaining(ratio: number, objectivePercent: number): number {
  return 1 - ratio / errorBudget(objectivePercent);
}

/** How many times faster than the budget allows errors come: 1 spends the budget exactly over the window. */
export function burnRate(ratio: number, objectivePercent: number): number {
  return ratio / errorBudget(objectivePercent);
}

/** A multiwindow burn alert holds when both windows burn faster than its factor. */
export function isBurning(longRate: number, shortRate: number, factor: number): boolean {
  return longRate > factor && shortRate > factor;
}

/**
 * At `rate`, how long the budget of a `windowMs` window lasts from full: window / rate. Null when
 * nothing burns. (14.4× over 30 days: a little over two days.)
 */
export function budgetLastsMs(rate: number, windowMs: number): number | null {
  return rate > 0 ? windowMs / rate : null;
}
