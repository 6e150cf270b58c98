import type { Infrastructure } from '../container.ts';
import { createHealthService, type HealthService } from '../probes/health.ts';
import { queueThresholdsFrom } from '../probes/queue-probe.ts';
import { createQueueInspector, type QueueInspector, type QueueThresholds } from '../probes/queues.ts';

export interface ProbeServices {
  health: HealthService;
  queues: QueueInspector | null;
  thresholdsFor: (queue: string) => QueueThresholds;
  close(): Promise<void>;
}

/**
 * The probes over the read-only pool and the fast-failing Redis, configured once the same way for
 * every feature that reads them (/health and /queue; Vigil's own alert rules).
 */
export function buildProbeServices(infra: Infrastructure): ProbeServices {
  const { config, probeDb, probeRedis, missing } = infra;
  const { bullmq } = config.file;
  // Queues named in the config (their thresholds) are listed before the first SCAN finds them.
  const queues = probeRedis
    ? createQueueInspector({ redis: probeRedis, prefix: bullmq.prefix, configured: Object.keys(bullmq.queues), refreshMs: bullmq.refreshSeconds * 1000 })
    : null;
  const thresholdsFor = queueThresholdsFrom(config.file.bullmq);
  const health = createHealthService({
    db: probeDb,
    redis: probeRedis,
    queues,
    thresholdsFor,
    httpTargets: config.file.probes.http.map((t) => ({ ...t, timeoutMs: t.timeoutMs ?? config.file.probes.timeoutMs })),
    timeoutMs: config.file.probes.timeoutMs,
    missing,
    explainError: infra.explainError,
  });
  return { health, queues, thresholdsFor, close: async () => queues?.close() };
}
