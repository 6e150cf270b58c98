import { describeError, isAppError, type AppError } from '../core/errors.ts';
import { elapsedMs, withTimeout } from '../core/timeout.ts';
import type { EvaluatedReading } from './reading.ts';
import type { ProbeTarget, UnavailableTarget } from './registration.ts';
import { evaluate } from './thresholds.ts';

/**
 * Measure one target under its own timeout and judge it. Any failure becomes a failing reading,
 * so one broken or hung dependency never stops the others from being reported.
 */
export async function readTarget(kind: string, target: ProbeTarget, timeoutMs: number, explain?: ExplainError): Promise<EvaluatedReading> {
  const start = performance.now();
  try {
    const measured = await withTimeout(Promise.resolve().then(() => target.measure()), timeoutMs, target.name);
    return evaluate({ kind, name: target.name, ...measured, durationMs: elapsedMs(start) }, target.rules);
  } catch (err) {
    return failedReading(kind, target.name, err, elapsedMs(start), explain);
  }
}

/** A dependency's failure in words (which one, where, why), or null when it is not one. */
export type ExplainError = (err: unknown) => AppError | null;

/** A reading that measured nothing, with the reason a person should see. */
export function failedReading(kind: string, name: string, err: unknown, durationMs: number, explain?: ExplainError): EvaluatedReading {
  const explained = isAppError(err) ? err : (explain?.(err) ?? null);
  const error = explained ? explained.userMessage : describeError(err);
  return evaluate({ kind, name, values: {}, facts: {}, durationMs, error }, []);
}

/** A dependency Vigil has no connection to: failing, with why (e.g. `DATABASE_URL is not set`). */
export function unavailableReading(kind: string, target: UnavailableTarget): EvaluatedReading {
  return evaluate({ kind, name: target.name, values: {}, facts: {}, durationMs: 0, error: target.unavailable }, []);
}
