import type { Field, Status } from '../core/reply.ts';
import { describeError, isAppError } from '../core/errors.ts';
import { elapsedMs, withTimeout } from '../core/timeout.ts';

export type CheckKind = 'postgres' | 'redis' | 'queue' | 'http';

/** The outcome of one read-only check, whatever it looked at. */
export interface CheckResult {
  name: string;
  kind: CheckKind;
  status: Status;
  durationMs: number;
  /** One line a person reads first, e.g. `4 ms · PostgreSQL 15.19 · 12/100 connections`. */
  summary: string;
  /** Extra facts shown with `--verbose`. */
  details: Field[];
}

export interface CheckOutcome {
  status: Status;
  summary: string;
  details?: Field[];
}

/**
 * Run one check under its own timeout and turn any failure into a `fail` result, so one broken or
 * hung dependency never stops the others from being reported.
 */
export async function runCheck(
  name: string,
  kind: CheckKind,
  timeoutMs: number,
  probe: () => Promise<CheckOutcome>,
): Promise<CheckResult> {
  const start = performance.now();
  try {
    const outcome = await withTimeout(probe(), timeoutMs, name);
    return { name, kind, durationMs: elapsedMs(start), details: [], ...outcome };
  } catch (err) {
    const summary = isAppError(err) ? err.userMessage : describeError(err);
    return { name, kind, status: 'fail', durationMs: elapsedMs(start), summary, details: [] };
  }
}

/** `used` of `limit` as a status: warn from 80 %, fail from 95 %. A limit of 0 means unlimited. */
export function usageStatus(used: number, limit: number): Status {
  if (limit <= 0) return 'ok';
  const ratio = used / limit;
  return ratio >= 0.95 ? 'fail' : ratio >= 0.8 ? 'warn' : 'ok';
}
