import { createPrometheusClient, PrometheusError, type PrometheusClient } from './prometheus-client.ts';
import { createLimiter } from '../../core/limiter.ts';
import { WINDOW_PLACEHOLDER, type SloSpec } from './slo-config.ts';
import { budgetRemaining, burnRate, compliance, errorRatio, isBurning } from './slo-math.ts';

/**
 * Each SLO's numbers as Prometheus has them now: the error ratio, compliance and budget left over
 * its window, and the burn rate over each burn alert's two windows. `/slo`, the burn-rate alerts
 * and the reports all read them from here.
 */

/** `ok`; `burning`: a burn alert's both windows burn faster than its factor; `exhausted`: the budget is spent; `no data`: no traffic over the window; `unknown`: Prometheus gave no answer. */
export type SloStatusWord = 'ok' | 'burning' | 'exhausted' | 'no data' | 'unknown';

export interface BurnReading {
  long: string;
  short: string;
  factor: number;
  severity: string;
  /** Burn rates (1 = spending exactly the budget over the SLO's window); null without traffic. */
  longRate: number | null;
  shortRate: number | null;
  /** Both faster than `factor`; null when a window had no traffic (cannot tell). */
  burning: boolean | null;
}

export interface SloStatus {
  name: string;
  /** Percent, as configured (99.5). */
  objective: number;
  window: string;
  windowSeconds: number;
  /** Fractions over the window (0.05 = 5 %); null without traffic or without an answer. */
  errorRatio: number | null;
  compliance: number | null;
  /** Share of the budget left: 1 untouched, ≤ 0 exhausted. */
  budgetRemaining: number | null;
  burnRates: BurnReading[];
  status: SloStatusWord;
  /** Why there are no numbers: Prometheus unreachable, a query it refused, an answer Vigil cannot use. */
  error: string | null;
  /** The error is Prometheus not answering at all (not a mistake in the expressions). */
  unreachable: boolean;
}

export interface SloStatusDeps {
  slos: readonly SloSpec[];
  prometheus: PrometheusClient;
  now: () => number;
  /** Queries in flight at once (default 4): a burst of SLOs must not flood Prometheus. */
  concurrency?: number;
  /**
   * False: only the burn alerts' windows, not the SLO's own (a rate over 30 days costs Prometheus
   * far more than one over an hour, and the alerts, evaluated every few seconds, do not need it).
   * The budget figures are then null and the status says only `burning` or `ok`.
   */
  budget?: boolean;
}

/**
 * For a feature (the reports, /slo): a reader of every configured SLO's status, and the Prometheus
 * it asks as it may be shown; `read` is null without PROMETHEUS_URL (then `missing` says so).
 */
export function sloReader(slos: readonly SloSpec[], prometheusUrl: string | undefined): { read: (() => Promise<SloStatus[]>) | null; prometheus: PrometheusClient | null; missing: string | null } {
  if (!prometheusUrl) return { read: null, prometheus: null, missing: 'PROMETHEUS_URL is not set' };
  const prometheus = createPrometheusClient(prometheusUrl);
  return { read: () => readSloStatuses({ slos, prometheus, now: Date.now }), prometheus, missing: null };
}

/** The expression with each `$window` replaced by a Prometheus duration (`30d`, `5m`). */
export function withWindow(expr: string, window: string): string {
  return expr.split(WINDOW_PLACEHOLDER).join(window);
}

/** Every SLO's status, in configuration order; one SLO's failing query never hides another's numbers. */
export async function readSloStatuses(deps: SloStatusDeps): Promise<SloStatus[]> {
  const at = deps.now();
  // Once Prometheus does not answer, the queries still waiting fail at once instead of each timing out.
  let down: PrometheusError | null = null;
  const limit = createLimiter(deps.concurrency ?? 4);
  const query = (q: string) =>
    limit(async () => {
      if (down) throw down;
      try {
        return await deps.prometheus.instant(q, at);
      } catch (err) {
        if (err instanceof PrometheusError && err.kind === 'unreachable') down = err;
        throw err;
      }
    });
  return Promise.all(deps.slos.map((slo) => readOne(slo, query, deps.budget ?? true)));
}

async function readOne(slo: SloSpec, query: (q: string) => Promise<number | null>, budget: boolean): Promise<SloStatus> {
  const base = { name: slo.name, objective: slo.objective, window: slo.window.text, windowSeconds: slo.window.ms / 1000 };
  const windows = [...new Set([...(budget ? [slo.window.text] : []), ...slo.burnAlerts.flatMap((b) => [b.long.text, b.short.text])])];
  // Settled in a fixed order, so the error reported is the same whichever query failed first.
  const answers = await Promise.allSettled(windows.flatMap((w) => [query(withWindow(slo.errors, w)), query(withWindow(slo.total, w))]));
  const ratios = new Map<string, number | null>();
  try {
    windows.forEach((w, i) => {
      const errors = valueOf(answers[2 * i]);
      const total = valueOf(answers[2 * i + 1]);
      // No error series at all is no errors; no total is no traffic (nothing to judge).
      ratios.set(w, total === null ? null : errorRatio(errors ?? 0, total));
    });
  } catch (err) {
    const error = err instanceof PrometheusError ? err.message : `Reading ${slo.name} failed: ${err instanceof Error ? err.message : String(err)}`;
    const burnRates = slo.burnAlerts.map((b) => ({ long: b.long.text, short: b.short.text, factor: b.factor, severity: b.severity, longRate: null, shortRate: null, burning: null }));
    return { ...base, errorRatio: null, compliance: null, budgetRemaining: null, burnRates, status: 'unknown', error, unreachable: err instanceof PrometheusError && err.kind === 'unreachable' };
  }

  const rateOver = (w: string) => {
    const ratio = ratios.get(w) ?? null;
    return ratio === null ? null : burnRate(ratio, slo.objective);
  };
  const burnRates: BurnReading[] = slo.burnAlerts.map((b) => {
    const longRate = rateOver(b.long.text);
    const shortRate = rateOver(b.short.text);
    const burning = longRate === null || shortRate === null ? null : isBurning(longRate, shortRate, b.factor);
    return { long: b.long.text, short: b.short.text, factor: b.factor, severity: b.severity, longRate, shortRate, burning };
  });
  if (!budget) {
    const status = burnRates.some((b) => b.burning === true) ? 'burning' : 'ok';
    return { ...base, errorRatio: null, compliance: null, budgetRemaining: null, burnRates, status, error: null, unreachable: false };
  }
  const ratio = ratios.get(slo.window.text) ?? null;
  const left = ratio === null ? null : budgetRemaining(ratio, slo.objective);
  const status: SloStatusWord =
    ratio === null || left === null ? 'no data' : left <= 0 ? 'exhausted' : burnRates.some((b) => b.burning === true) ? 'burning' : 'ok';
  return { ...base, errorRatio: ratio, compliance: ratio === null ? null : compliance(ratio), budgetRemaining: left, burnRates, status, error: null, unreachable: false };
}

function valueOf(answer: PromiseSettledResult<number | null> | undefined): number | null {
  if (answer === undefined) return null;
  if (answer.status === 'rejected') throw answer.reason;
  return answer.value;
}

