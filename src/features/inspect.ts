import { commands } from '../../commands/index.ts';
import type { InspectDeps } from '../../commands/deps.ts';
import { actionButtonsFrom } from '../actions/buttons.ts';
import { bindCommands } from '../core/command.ts';
import { endpointOf } from '../core/dependency-errors.ts';
import type { Infrastructure } from '../infrastructure.ts';
import type { Feature } from './feature.ts';
import { createSizeHistory } from '../probes/db-size-history.ts';

/**
 * The inspection commands (/health, /queue, /slowqueries, /redis): read-only, over the read-only probe
 * pool and the fast-failing Redis, through the probe services the infrastructure built once.
 * Nothing here can change what it looks at.
 */
export function inspectFeature(infra: Infrastructure): Feature {
  const { probes } = infra;
  const deps: InspectDeps = {
    health: probes.health,
    db: infra.probeDb,
    queues: probes.queues,
    redis: infra.probeRedis,
    redisAt: endpointOf(infra.redisUrl, 6379) ?? null,
    ...(infra.probeRedis ? { sizeHistory: createSizeHistory(infra.probeRedis, infra.config.file.state.queuePrefix) } : {}),
    missing: infra.missing,
    thresholdsFor: probes.thresholdsFor,
    now: Date.now,
    actionButton: actionButtonsFrom(infra.config.file.actions?.catalog ?? {}),
  };
  return { name: 'inspect', commands: bindCommands([commands.health, commands.queue, commands.slowqueries, commands.db, commands.redis], deps) };
}
