import { runCommand, type RunCommandDeps } from '../../commands/run.ts';
import { commands } from '../../commands/index.ts';
import type { DecideCommandDeps } from '../../commands/approve.ts';
import { bindCommands } from '../core/command.ts';
import type { Infrastructure } from '../infrastructure.ts';
import type { Feature } from './feature.ts';

/**
 * Approved actions: /run asks, approvers decide with buttons in the approvals channel, a BullMQ
 * worker runs each approved request exactly once and reports in the thread. Every step is in the
 * audit trail, in the same transaction as the change it records.
 *
 * The pipeline (service, runners, queue, schedule: BullMQ, node-cron) is imported only when
 * actions are configured, so a process without them does not load it.
 */
export async function actionsFeature(infra: Infrastructure): Promise<Feature> {
  const cfg = infra.config.file.actions;
  const catalog = cfg ? Object.values(cfg.catalog) : [];
  // /run takes the catalog's parameters as options (`--service api`).
  const run = runCommand([...new Set(catalog.flatMap((a) => Object.keys(a.runner.params)))]);
  const decisions = [commands.approve, commands.deny];
  const off = (missing: string): Feature => ({
    name: 'actions',
    commands: [...bindCommands<RunCommandDeps>([run], { actions: null, missing }), ...bindCommands<DecideCommandDeps>(decisions, { actions: null, missing, now: Date.now })],
  });
  if (!cfg || catalog.length === 0) return off('no actions are configured (actions.catalog in manifests/vigil.yaml)');
  if (!infra.redisUrl) return off(`actions need Redis for their queue (${infra.missing.redis ?? 'none'})`);

  const { createActionPipeline } = await import('../actions/action-pipeline.ts');
  const pipeline = createActionPipeline(infra, cfg, infra.redisUrl);
  // With a separate runner the bot only enqueues; `vigil runner` runs (and nothing else does).
  const runsHere = infra.role === 'runner' || (infra.role === 'bot' && cfg.runner === 'in-process');
  const where = runsHere ? '' : cfg.runner === 'separate' && infra.role === 'bot' ? '; run by `vigil runner`, not here' : '';
  infra.announce(`Actions: ${catalog.length} in the catalog, approvals in ${cfg.approvalChannel}${infra.outbox || infra.role === 'runner' ? '' : ' (no Slack: requests are kept, nothing is posted)'}${where}`);
  return {
    name: 'actions',
    commands: [
      ...bindCommands([run], { actions: pipeline.actions, missing: undefined }),
      ...bindCommands<DecideCommandDeps>(decisions, { actions: pipeline.decisions, missing: undefined, now: Date.now }),
    ],
    interactions: pipeline.interactions,
    workers: runsHere ? pipeline.workers : [],
    schedules: pipeline.schedules,
    close: () => pipeline.close(),
  };
}
