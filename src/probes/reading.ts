import type { Status } from '../core/reply.ts';

/**
 * What a probe measured. Plain data on purpose: /health, /queue and Vigil's own alert rules all read
 * the same numbers, and a snapshot serialises to JSON as it is.
 */
export interface Measurement {
  /** Numbers thresholds compare, e.g. `connections_used`, `waiting`, `paused` (0 or 1). */
  values: Record<string, number>;
  /** Descriptive facts for people, never compared: version, eviction policy, display URL. */
  facts: Record<string, string>;
}

/** One probe of one target (a database, a queue, an HTTP URL). */
export interface Reading extends Measurement {
  /** The probe that took it (`postgres`, `redis`, `queue`, `http`, `backup`): how /health groups readings. */
  kind: string;
  name: string;
  durationMs: number;
  /** Why nothing could be measured (refused, timed out, not configured). Such a reading fails. */
  error?: string;
}

/** One reason a reading is not ok. */
export interface Breach {
  /** The measure that crossed a threshold; absent when the probe itself failed. */
  measure?: string;
  status: 'warn' | 'fail';
  /** Short and human: `waiting 1200 ≥ 1000`. */
  reason: string;
}

export interface EvaluatedReading extends Reading {
  status: Status;
  breaches: Breach[];
}

/**
 * Keep only the finite numbers: an unknown value (a missing INFO line, no job waiting) is absent
 * rather than NaN or null, so a threshold on it is skipped instead of silently never matching.
 */
export function finiteValues(entries: Record<string, number | null | undefined>): Record<string, number> {
  const values: Record<string, number> = {};
  for (const [key, value] of Object.entries(entries)) {
    if (typeof value === 'number' && Number.isFinite(value)) values[key] = value;
  }
  return values;
}
