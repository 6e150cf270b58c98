import type { HealthService } from '../probes/health.ts';
import type { QueueInspector, QueueThresholds } from '../probes/queue-inspector.ts';
import type { Queryable } from '../db/queryable.ts';
import { AppError } from './errors.ts';
import type { Button } from './reply.ts';

/** What commands may use. A dependency that could not be reached is null plus the reason. */
export interface CommandDeps {
  health: HealthService;
  db: Queryable | null;
  queues: QueueInspector | null;
  missing: { postgres?: string; redis?: string };
  thresholdsFor: (queue: string) => QueueThresholds;
  now: () => number;
  /**
   * A button requesting the configured action that does `builtin` (e.g. `bullmq.retryFailed`) with
   * these parameters, or null when the catalog has none. Pressing it only asks: approval follows.
   */
  actionButton?: (builtin: string, label: string, params: Record<string, string | number>) => Button | null;
}

/** The dependency, or a clear `dependency_unavailable` error naming what is missing and why. */
export function requireDep<T>(dep: T | null, what: string, why: string | undefined): T {
  if (dep === null) {
    throw new AppError('dependency_unavailable', `${what} is not available${why ? `: ${why}` : ''}.`);
  }
  return dep;
}
