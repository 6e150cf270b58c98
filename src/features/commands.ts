import { commands } from '../../commands/index.ts';
import { bindCommands } from '../core/command.ts';
import type { CommandDeps } from '../core/deps.ts';
import type { Feature } from '../core/feature.ts';
import type { Infrastructure } from '../container.ts';
import { createHealthService } from '../probes/health.ts';
import { queueThresholdsFrom } from '../probes/queue-probe.ts';
import { createQueueInspector } from '../probes/queues.ts';

/**
 * The on-call commands (/health, /queue, /slowqueries): read-only services over the read-only
 * probe pool and the fast-failing Redis. Nothing here can change what it looks at.
 */
export function commandsFeature(infra: Infrastructure): Feature {
  const { config, probeDb, probeRedis, missing } = infra;
  const queues = probeRedis ? createQueueInspector({ redis: probeRedis, prefix: config.file.bullmq.prefix }) : null;
  const thresholdsFor = queueThresholdsFrom(config.file.bullmq);
  const health = createHealthService({
    db: probeDb,
    redis: probeRedis,
    queues,
    thresholdsFor,
    httpTargets: config.file.probes.http.map((t) => ({ ...t, timeoutMs: t.timeoutMs ?? config.file.probes.timeoutMs })),
    timeoutMs: config.file.probes.timeoutMs,
    missing,
  });
  const deps: CommandDeps = { health, db: probeDb, queues, missing, thresholdsFor, now: Date.now };
  return {
    name: 'commands',
    commands: bindCommands(commands, deps),
    close: async () => queues?.close(),
  };
}
