import { worstStatus, type Status } from '../core/reply.ts';
import { elapsedMs, withTimeout } from '../core/timeout.ts';
import { failedReading, readTarget, unavailableReading, type ExplainError } from './read-target.ts';
import type { EvaluatedReading } from './reading.ts';
import { isUnavailable, type PlannedTarget, type ProbeRegistration, type ProbeSources } from './registration.ts';
import { PROBES } from './probe-list.ts';

export interface HealthSnapshot {
  status: Status;
  durationMs: number;
  checkedAt: Date;
  /** One evaluated reading per target, in registry order: group them by `kind`. */
  checks: EvaluatedReading[];
}

export interface HealthService {
  /** Run every probe concurrently; callers arriving while a run is in flight share it. */
  check(): Promise<HealthSnapshot>;
  /**
   * The last snapshot while it is at most `maxAgeMs` old (refreshed in the background, single
   * flight, once it is half that old), else a fresh one. For /health: an answer without waiting
   * for the probes, never older than the caller allows.
   */
  recent(maxAgeMs: number): Promise<HealthSnapshot>;
}

export interface HealthDeps extends ProbeSources {
  /** Per-probe budget; the whole snapshot finishes within about this long. */
  timeoutMs: number;
  /** Says which dependency failed, where and why, instead of the driver's message. */
  explainError?: ExplainError;
}

/** Targets found late (queues listed first) still get this long to answer. */
const MIN_BUDGET_MS = 100;

export function createHealthService(deps: HealthDeps, now: () => number = Date.now): HealthService {
  let inFlight: Promise<HealthSnapshot> | null = null;
  let last: HealthSnapshot | null = null;

  async function snapshot(): Promise<HealthSnapshot> {
    const start = performance.now();
    const groups = await Promise.all(PROBES.map((probe) => readProbe(probe, deps, start)));
    const checks = groups.flat();
    return {
      status: worstStatus(checks.map((c) => c.status)),
      durationMs: elapsedMs(start),
      // The same clock `recent()` measures ages with: a snapshot stamped by another clock would
      // look older or younger than it is, and tests could only age it by sleeping.
      checkedAt: new Date(now()),
      checks,
    };
  }

  function check(): Promise<HealthSnapshot> {
    // Single flight: 50 people typing /health during an incident cost one round of probes.
    inFlight ??= snapshot()
      .then((s) => (last = s))
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  }

  return {
    check,
    recent(maxAgeMs) {
      const age = last ? now() - last.checkedAt.getTime() : Infinity;
      if (last && age <= maxAgeMs) {
        if (age > maxAgeMs / 2) void check().catch(() => undefined);
        return Promise.resolve(last);
      }
      return check();
    },
  };
}

/**
 * Every target of one probe. Finding targets and measuring them share one budget, so probes with
 * discovery (queues) finish as soon as the others; a failed discovery is one failing reading.
 */
async function readProbe(probe: ProbeRegistration, deps: HealthDeps, start: number): Promise<EvaluatedReading[]> {
  const discoveryName = probe.discoveryName ?? probe.heading;
  let planned: PlannedTarget[];
  try {
    planned = await withTimeout(Promise.resolve().then(() => probe.targets(deps)), deps.timeoutMs, discoveryName);
  } catch (err) {
    return [failedReading(probe.kind, discoveryName, err, elapsedMs(start), deps.explainError)];
  }
  const budgetMs = Math.max(MIN_BUDGET_MS, Math.round(deps.timeoutMs - (performance.now() - start)));
  return Promise.all(
    planned.map((target) => (isUnavailable(target) ? unavailableReading(probe.kind, target) : readTarget(probe.kind, target, budgetMs, deps.explainError))),
  );
}
