import { describeError, isAppError } from '../core/errors.ts';
import { elapsedMs, withTimeout } from '../core/timeout.ts';
import type { EvaluatedReading } from './reading.ts';
import type { ProbeTarget, UnavailableTarget } from './registration.ts';
import { evaluate } from './thresholds.ts';

/**
 * Measure one target under its own timeout and judge it. Any failure becomes a failing reading,
 * so one broken or hung dependency never stops the others from being reported.
 */
export async function readTarget(kind: string, target: ProbeTarget, timeoutMs: number): Promise<EvaluatedReading> {
  const start = performance.now();
  try {
    const measured = await withTimeout(Promise.resolve().then(() => target.measure()), timeoutMs, target.name);
    return evaluate({ kind, name: target.name, ...measured, durationMs: elapsedMs(start) }, target.rules);
  } catch (err) {
    return failedReading(kind, target.name, err, elapsedMs(start));
  }
}

/** A reading that measured nothing, with the reason a person should see. */
export function failedReading(kind: string, name: string, err: unknown, durationMs: number): EvaluatedReading {
  const error = isAppError(err) ? err.userMessage : describeError(err);
  return evaluate({ kind, name, values: {}, facts: {}, durationMs, error }, []);
}

/** A dependency Vigil has no connection to: failing, with why (e.g. `DATABASE_URL is not set`). */
export function unavailableReading(kind: string, target: UnavailableTarget): EvaluatedReading {
  return evaluate({ kind, name: target.name, values: {}, facts: {}, durationMs: 0, error: target.unavailable }, []);
}
