import { formatDuration, formatMiB, formatPercent } from '../core/format.ts';
import { worstStatus, type Status } from '../core/reply.ts';
import type { Breach, EvaluatedReading, Measurement, Reading } from './reading.ts';

/**
 * One threshold on one measure, compared with `>=`. Plain data, so the same rules can later come
 * from YAML for Vigil's own alerts.
 */
export interface ThresholdRule {
  measure: string;
  /**
   * Compare `measure / values[of]` instead of the raw value (connections used of max). Skipped when
   * `values[of]` is missing or ≤ 0, which is how Redis says "no limit".
   */
  of?: string;
  warnAt?: number;
  failAt?: number;
  /** Name in the reason; defaults to the measure. */
  label?: string;
  /** How values print in the reason. */
  unit?: 'count' | 'bytes' | 'ms';
  /**
   * A fixed reason for 0/1 flags, where `paused 1 ≥ 1` says nothing. `{key}` is replaced by the
   * reading's value or fact of that name.
   */
  reason?: string;
  /**
   * Judge the rule only while another measure is at least this big: a fragmentation ratio means
   * little until the bytes it wastes do (a nearly empty Redis reads 10× fragmented).
   */
  onlyWhen?: { measure: string; atLeast: number };
}

/** The status of a measurement under `rules`: the worst breach wins, no breach is ok. */
export function assess(m: Measurement, rules: readonly ThresholdRule[]): { status: Status; breaches: Breach[] } {
  const breaches = rules.flatMap((rule) => {
    const breach = breachOf(m, rule);
    return breach ? [breach] : [];
  });
  return { status: worstStatus(breaches.map((b) => b.status)), breaches };
}

/** A reading with its status. A probe that could not measure fails, whatever the rules say. */
export function evaluate(reading: Reading, rules: readonly ThresholdRule[]): EvaluatedReading {
  if (reading.error !== undefined) {
    return { ...reading, status: 'fail', breaches: [{ status: 'fail', reason: reading.error }] };
  }
  return { ...reading, ...assess(reading, rules) };
}

function breachOf(m: Measurement, rule: ThresholdRule): Breach | null {
  const value = m.values[rule.measure];
  if (value === undefined) return null;
  if (rule.onlyWhen && !((m.values[rule.onlyWhen.measure] ?? -Infinity) >= rule.onlyWhen.atLeast)) return null;
  const limit = rule.of === undefined ? undefined : m.values[rule.of];
  if (rule.of !== undefined && (limit === undefined || limit <= 0)) return null;
  const compared = limit === undefined ? value : value / limit;
  const status = reached(compared, rule.failAt) ? 'fail' : reached(compared, rule.warnAt) ? 'warn' : null;
  if (status === null) return null;
  const threshold = (status === 'fail' ? rule.failAt : rule.warnAt) ?? 0;
  return { measure: rule.measure, status, reason: reasonFor(m, rule, value, limit, threshold) };
}

function reached(value: number, threshold: number | undefined): boolean {
  return threshold !== undefined && value >= threshold;
}

function reasonFor(m: Measurement, rule: ThresholdRule, value: number, limit: number | undefined, threshold: number): string {
  if (rule.reason !== undefined) return interpolate(rule.reason, m);
  const label = rule.label ?? rule.measure;
  const show = (n: number): string => formatValue(n, rule.unit ?? 'count');
  if (limit === undefined) return `${label} ${show(value)} ≥ ${show(threshold)}`;
  return `${label} ${show(value)} of ${show(limit)} (${formatPercent(value / limit)}) ≥ ${formatPercent(threshold)}`;
}

function formatValue(n: number, unit: NonNullable<ThresholdRule['unit']>): string {
  if (unit === 'bytes') return formatMiB(n);
  if (unit === 'ms') return formatDuration(n / 1000);
  return String(n);
}

function interpolate(template: string, m: Measurement): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const value = m.values[key] ?? m.facts[key];
    return value === undefined ? whole : String(value);
  });
}
