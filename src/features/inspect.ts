import { commands } from '../../commands/index.ts';
import { bindCommands } from '../core/command.ts';
import type { CommandDeps } from '../core/deps.ts';
import type { Feature } from '../core/feature.ts';
import type { Infrastructure } from '../container.ts';
import { buildProbeServices } from './probe-services.ts';
import { actionButtonsFrom } from '../actions/buttons.ts';

/**
 * The on-call commands (/health, /queue, /slowqueries): read-only services over the read-only
 * probe pool and the fast-failing Redis. Nothing here can change what it looks at.
 */
export function inspectFeature(infra: Infrastructure): Feature {
  const probes = buildProbeServices(infra);
  const deps: CommandDeps = {
    health: probes.health,
    db: infra.probeDb,
    queues: probes.queues,
    missing: infra.missing,
    thresholdsFor: probes.thresholdsFor,
    now: Date.now,
    actionButton: actionButtonsFrom(infra.config.file.actions?.catalog ?? {}),
  };
  return {
    name: 'commands',
    commands: bindCommands(commands, deps),
    close: () => probes.close(),
  };
}
