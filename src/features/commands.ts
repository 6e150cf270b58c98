import { commands } from '../../commands/index.ts';
import { bindCommands } from '../core/command.ts';
import type { CommandDeps } from '../core/deps.ts';
import type { Feature } from '../core/feature.ts';
import type { Infrastructure } from '../container.ts';
import { buildProbeServices } from './probe-services.ts';
import { REQUEST_HANDLER } from '../actions/messages.ts';
import type { ActionConfig } from '../actions/catalog-config.ts';
import type { Button } from '../core/reply.ts';

/**
 * The on-call commands (/health, /queue, /slowqueries): read-only services over the read-only
 * probe pool and the fast-failing Redis. Nothing here can change what it looks at.
 */
export function commandsFeature(infra: Infrastructure): Feature {
  const probes = buildProbeServices(infra);
  const deps: CommandDeps = {
    health: probes.health,
    db: infra.probeDb,
    queues: probes.queues,
    missing: infra.missing,
    thresholdsFor: probes.thresholdsFor,
    now: Date.now,
    actionButton: actionButtons(infra.config.file.actions?.catalog ?? {}),
  };
  return {
    name: 'commands',
    commands: bindCommands(commands, deps),
    close: () => probes.close(),
  };
}

/**
 * Buttons requesting a catalog action from a command's reply (e.g. /queue's "Retry failed"): the
 * first action running that built-in. The click asks for it exactly as /run would.
 */
function actionButtons(catalog: Record<string, ActionConfig>): NonNullable<CommandDeps['actionButton']> {
  return (builtin, label, params) => {
    const found = Object.entries(catalog).find(([, a]) => a.runner.kind === 'builtin' && a.runner.builtin === builtin);
    if (!found) return null;
    const [action, config] = found;
    const button: Button = {
      handler: REQUEST_HANDLER,
      label,
      value: JSON.stringify({ action, params }),
      confirm: { title: `Request ${action}?`, text: `${config.title}: ${config.policy ? 'an approver decides in the approvals channel' : 'runs at once'}.`, confirm: 'Request', deny: 'Cancel' },
    };
    return button;
  };
}
