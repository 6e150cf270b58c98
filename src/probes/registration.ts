import type { Field, Suggestion } from '../core/reply.ts';
import type { BackupTarget } from './backup-probe.ts';
import type { HttpTarget } from './http-probe.ts';
import type { QueueInspector, QueueThresholds } from './queue-inspector.ts';
import type { Queryable } from '../db/queryable.ts';
import type { EvaluatedReading, Measurement, Reading } from './reading.ts';
import type { RedisInfoSource } from './redis-probe.ts';
import type { ThresholdRule } from './thresholds.ts';

/** Everything the probes look at. A dependency that could not be reached is null plus the reason. */
export interface ProbeSources {
  db: Queryable | null;
  redis: RedisInfoSource | null;
  queues: QueueInspector | null;
  thresholdsFor: (queue: string) => QueueThresholds;
  httpTargets: HttpTarget[];
  /** Backups whose freshness is checked; none when absent. */
  backups?: BackupTarget[];
  missing: { postgres?: string; redis?: string };
  /** Clock for ages (oldest waiting job, backup files and URLs); defaults to Date.now. */
  now?: () => number;
}

/** One thing to measure now, with the thresholds that judge it. */
export interface ProbeTarget {
  name: string;
  measure: () => Promise<Measurement>;
  rules: readonly ThresholdRule[];
}

/** A target whose dependency is absent: reported as failing with the reason, never measured. */
export interface UnavailableTarget {
  name: string;
  unavailable: string;
}

export type PlannedTarget = ProbeTarget | UnavailableTarget;

/**
 * Everything Vigil knows about one kind of probe, in one place: adding a probe is one file
 * exporting this and one line in the registry.
 */
export interface ProbeRegistration {
  kind: string;
  /** Section heading in /health. */
  heading: string;
  /** `line`: one target, shown as a sentence. `table`: one row per target. */
  layout: 'line' | 'table';
  /**
   * For probes whose targets are found at run time (queues): the name of the failing reading
   * when finding them fails. Finding and measuring share one timeout.
   */
  discoveryName?: string;
  targets(sources: ProbeSources): PlannedTarget[] | Promise<PlannedTarget[]>;
  /** One line for a reading that has values, e.g. `4 ms · PostgreSQL 16.4 · 12/100 connections`. */
  summarize(reading: Reading): string;
  /** Facts shown with `--verbose`. */
  details(reading: Reading): Field[];
  /** The command that digs deeper into a reading that is not ok. */
  followUp?(reading: EvaluatedReading): Suggestion | null;
}

export function isUnavailable(target: PlannedTarget): target is UnavailableTarget {
  return 'unavailable' in target;
}

/** A value for display: `?` when the probe did not report it. */
export function shown(value: number | undefined): string {
  return value === undefined ? '?' : String(value);
}
