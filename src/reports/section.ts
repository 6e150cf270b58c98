import type { Section, Status } from '../core/reply.ts';
import type { HealthSnapshot } from '../probes/health.ts';
import type { ResponseTargets } from './report-config.ts';
import type { ReportWindow } from './window.ts';

/** Tables in a report show at most this many rows; the rest are counted ("and 37 more groups"). */
export const MAX_ROWS = 10;

/** What a report remembers for the next one of the same name: "grew since", "new since". */
export interface Baseline {
  /** Counts per queue at the time of the report. */
  queues?: Record<string, { waiting: number; failed: number }>;
  /** pg_stat_statements query ids the report saw among the top statements. */
  statements?: string[];
}

/** What every section provider reads: the window, the previous report of this name, targets. */
export interface ReportContext {
  name: string;
  window: ReportWindow;
  /** The previous scheduled report of this name (its tick, what it remembered); null for the first. */
  previous: { tickAt: number; baseline: Baseline } | null;
  targets: ResponseTargets;
  /** One round of probes shared by the sections that read it (health now, backups). */
  health(): Promise<HealthSnapshot>;
}

/** One part of a report, for people (Reply sections) and for scripts (`data`, numbers only). */
export interface SectionResult {
  sections: Section[];
  data: unknown;
  /** What the next report of this name compares with. */
  baseline?: Baseline;
}

/**
 * A section provider: the seam where a report grows (the SLO budgets plug in here). `id` is its
 * key in `--json`. A provider that throws does not sink the report: its part says why instead.
 */
export interface ReportSection {
  id: string;
  collect(ctx: ReportContext): Promise<SectionResult>;
}

/** "and 37 more groups": said whenever a table shows fewer rows than there are. */
export function moreText(total: number, shown: number, what: string): string | undefined {
  return total > shown ? `and ${total - shown} more ${what} (not shown; see --json for the figures)` : undefined;
}

/** Seconds, rounded to the millisecond, as numbers for scripts; null when there is nothing to average. */
export function seconds(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? Math.round(n * 1000) / 1000 : null;
}

/** One section standing in for a provider that failed: the report still goes out. */
export function failedSection(id: string, why: string): SectionResult {
  return { sections: [{ heading: `${id}: not available`, status: 'warn' as Status, text: why }], data: { error: why } };
}
