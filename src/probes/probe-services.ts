import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { Config } from '../config/load.ts';
import { createHealthService, type HealthService } from './health.ts';
import { queueThresholdsFrom } from './queue-probe.ts';
import { createQueueInspector, type QueueInspector, type QueueThresholds } from './queue-inspector.ts';
import type { ExplainError } from './read-target.ts';

/**
 * The probes over the read-only pool and the fast-failing Redis, built once per process and
 * shared by everything that reads them (/health, /queue, Vigil's own alert rules): one queue
 * inspector walking Redis in the background, one health service whose rounds /health and the
 * rules share.
 */
export interface ProbeServices {
  health: HealthService;
  queues: QueueInspector | null;
  thresholdsFor: (queue: string) => QueueThresholds;
  close(): Promise<void>;
}

export interface ProbeServiceDeps {
  config: Config;
  probeDb: pg.Pool | null;
  probeRedis: Redis | null;
  missing: { postgres?: string; redis?: string };
  explainError: ExplainError;
}

export function createProbeServices(deps: ProbeServiceDeps): ProbeServices {
  const { config, probeDb, probeRedis, missing } = deps;
  const { bullmq, probes } = config.file;
  // Queues named in the config (their thresholds) are listed before the first SCAN finds them.
  const queues = probeRedis
    ? createQueueInspector({ redis: probeRedis, prefix: bullmq.prefix, configured: Object.keys(bullmq.queues), refreshMs: bullmq.refreshSeconds * 1000 })
    : null;
  const thresholdsFor = queueThresholdsFrom(bullmq);
  const health = createHealthService({
    db: probeDb,
    redis: probeRedis,
    queues,
    thresholdsFor,
    httpTargets: probes.http.map((t) => ({ ...t, timeoutMs: t.timeoutMs ?? probes.timeoutMs })),
    backups: probes.backups.map((b) => ({ ...b, timeoutMs: probes.timeoutMs })),
    timeoutMs: probes.timeoutMs,
    missing,
    explainError: deps.explainError,
  });
  return { health, queues, thresholdsFor, close: async () => queues?.close() };
}
