import type { Redis } from 'ioredis';
import type { Infrastructure } from '../container.ts';
import { createHealthService, type HealthService } from '../probes/health.ts';
import { queueThresholdsFrom } from '../probes/queue-probe.ts';
import { createQueueInspector, type QueueInspector, type QueueThresholds } from '../probes/queue-inspector.ts';

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
  const shared = probeRedis ? sharedInspector(infra, probeRedis) : null;
  const queues = shared?.inspector ?? null;
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
  return { health, queues, thresholdsFor, close: async () => shared?.release() };
}

/**
 * One queue inspector per container, shared by the features that build probe services (commands,
 * alerts): its background refresh walks every key in Redis, which one walker per process is
 * enough of. Closed when the last feature using it closes.
 */
const inspectors = new WeakMap<Infrastructure, { inspector: QueueInspector; users: number }>();

function sharedInspector(infra: Infrastructure, redis: Redis): { inspector: QueueInspector; release(): Promise<void> } {
  const { bullmq } = infra.config.file;
  let entry = inspectors.get(infra);
  if (!entry) {
    // Queues named in the config (their thresholds) are listed before the first SCAN finds them.
    const inspector = createQueueInspector({ redis, prefix: bullmq.prefix, configured: Object.keys(bullmq.queues), refreshMs: bullmq.refreshSeconds * 1000 });
    entry = { inspector, users: 0 };
    inspectors.set(infra, entry);
  }
  const own = entry;
  own.users += 1;
  let released = false;
  return {
    inspector: own.inspector,
    async release() {
      if (released) return;
      released = true;
      own.users -= 1;
      if (own.users > 0) return;
      inspectors.delete(infra);
      await own.inspector.close();
    },
  };
}
