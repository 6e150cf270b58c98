import { defineCommand, type Command } from '../src/core/command.ts';
import type { Queryable } from '../src/db/queryable.ts';
import type { Button } from '../src/core/reply.ts';
import type { HealthService } from '../src/probes/health.ts';
import type { QueueInspector, QueueThresholds } from '../src/probes/queue-inspector.ts';
import type { RedisInspectSource } from '../src/probes/redis-inspect.ts';
import type { SizeHistory } from '../src/probes/db-size-history.ts';

/**
 * What the inspection commands (/health, /queue, /slowqueries, /redis) read: the probes over the
 * read-only pool and the fast-failing Redis. A dependency that could not be reached is null plus
 * the reason.
 */
export interface InspectDeps {
  health: HealthService;
  db: Queryable | null;
  queues: QueueInspector | null;
  /** The fast-failing probe Redis, for /redis (read-only commands only). */
  redis: RedisInspectSource | null;
  /** Where that Redis is (host:port, never credentials), named in /redis's answers. */
  redisAt: string | null;
  missing: { postgres?: string; redis?: string };
  thresholdsFor: (queue: string) => QueueThresholds;
  now: () => number;
  /**
   * A button requesting the configured action that does `builtin` (e.g. `bullmq.retryFailed`) with
   * these parameters, or null when the catalog has none. Pressing it only asks: approval follows.
   */
  actionButton?: (builtin: string, label: string, params: Record<string, string | number>) => Button | null;
  /** The database size /db kept earlier, for its growth since; absent without Redis. */
  sizeHistory?: SizeHistory;
}

/** An inspection command, its argument type inferred from its schema. */
export function defineInspectCommand<A>(command: Command<A, InspectDeps>): Command<unknown, InspectDeps> {
  return defineCommand<A, InspectDeps>(command);
}
