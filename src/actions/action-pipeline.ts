import type { ActionSummary } from '../../commands/run.ts';
import type { DecideCommandDeps } from '../../commands/approve.ts';
import { AppError } from '../core/errors.ts';
import { pendingRequests } from './store.ts';
import type { Runnable } from '../core/runnable.ts';
import type { InteractionHandler } from '../core/interactions.ts';
import type { Reply } from '../core/reply.ts';
import type { Invoker } from '../core/command.ts';
import { closeRedis, createQueueConnection } from '../db/redis-clients.ts';
import type { Infrastructure } from '../infrastructure.ts';
import { createSchedule } from '../schedules/schedule.ts';
import type { ActionConfig, ActionsConfig } from './catalog-config.ts';
import type { ActionDefinition } from './definition.ts';
import { actionHandlers } from './handlers.ts';
import { createActionMetrics } from './metrics.ts';
import { paramHelp, paramsSchemaFor } from './params.ts';
import { checkTarget, createRunner, previewRun, type RunnerDeps } from './runners/index.ts';
import { createActionService } from './service.ts';
import { createActionQueue } from './worker.ts';
import { resolveRunAs } from './runners/run-as.ts';
import { ownSilencesIn } from '../alerts/vigil-silences.ts';

// Expiries, interrupted runs and lost jobs are looked for this often (one replica per tick).
const SWEEP_CRON = '*/5 * * * * *';

export interface ActionPipeline {
  /** What /run lists and requests through. */
  actions: { list(): ActionSummary[]; request(actionId: string, params: Record<string, unknown>, reason: string | null, invoker: Invoker): Promise<Reply> };
  /** What /approve and /deny decide through (the service the buttons use). */
  decisions: DecideCommandDeps['actions'] & object;
  interactions: InteractionHandler[];
  workers: Runnable[];
  schedules: Runnable[];
  close(): Promise<void>;
}

/**
 * The catalog's actions made runnable, the service that requests and decides them, the BullMQ
 * queue and worker that run each approved request once, and the sweep for expiries, interrupted
 * runs and lost jobs. The queue has a Redis connection of its own (BullMQ's blocking reads).
 */
export function createActionPipeline(infra: Infrastructure, cfg: ActionsConfig, redisUrl: string): ActionPipeline {
  const { config, log } = infra;
  const connection = createQueueConnection(redisUrl, log);
  const execAs = resolveRunAs(cfg.runAs);
  if ('error' in execAs) log.error({ runAs: cfg.runAs }, `actions: ${execAs.error}`);
  else if (execAs.runAs) infra.announce(`Actions: exec actions run as ${execAs.runAs.user} (uid ${execAs.runAs.uid}), not as root`);
  const runnerDeps: RunnerDeps = {
    bullmq: { connection, prefix: config.file.bullmq.prefix },
    alertmanagerUrl: config.env.ALERTMANAGER_URL ?? null,
    db: infra.probeDb,
    ownSilences: infra.state.pool ? ownSilencesIn(infra.state.pool, config.file.alerts) : null,
    env: config.processEnv,
    execAs,
  };
  const definitions = new Map<string, ActionDefinition>(Object.entries(cfg.catalog).map(([id, a]) => [id, definitionOf(id, a, runnerDeps)]));
  const metrics = createActionMetrics(infra.metrics.registry, [...definitions.keys()]);
  let enqueue: (id: string) => Promise<void> = async () => undefined;
  const service = createActionService({
    state: infra.state,
    // From a terminal, through a bot's outbox: the request reaches the approvals channel all the same.
    outbox: infra.outbox ?? infra.relayOutbox,
    approvalChannel: cfg.approvalChannel,
    catalog: definitions,
    directory: infra.members,
    access: infra.access,
    audit: infra.audit.append,
    enqueue: (id) => enqueue(id),
    metrics,
    log,
  });
  const queue = createActionQueue({ connection, prefix: config.file.state.queuePrefix, state: infra.state, service, audit: infra.audit.append, metrics, log });
  enqueue = (id) => queue.enqueue(id);
  const sweeper = infra.probeRedis
    ? createSchedule({ name: 'actions-sweep', cron: SWEEP_CRON, redis: infra.probeRedis, keyPrefix: config.file.state.queuePrefix, log, run: () => queue.sweep() })
    : null;

  const summaries: ActionSummary[] = [...definitions.values()].map((d) => ({
    id: d.id,
    title: d.title,
    risk: d.risk,
    usage: Object.entries(d.paramHelp)
      .map(([name, help]) => `--${name} ${help}`)
      .join(' '),
    approval: d.policy ? `${d.policy.approvals} approver(s)` : 'none',
  }));
  return {
    actions: { list: () => summaries, request: (id, params, reason, invoker) => service.request(id, params, reason, invoker) },
    decisions: {
      async decide(decision, id, invoker) {
        const { reply, refused } = await service.decide(decision, id, invoker);
        // A refused decision is a refusal at the command's edge too (audited, exit 77 in the CLI).
        if (refused) throw new AppError('forbidden', typeof reply.summary === 'string' ? reply.summary : 'Not allowed.');
        return reply;
      },
      async pending() {
        const s = await infra.state.ready();
        if (s.kind !== 'ready') throw new AppError('dependency_unavailable', `Vigil's state database is not available: ${s.why}.`);
        return (await pendingRequests(s.pool, 50)).map((r) => ({
          id: r.id,
          action: r.action,
          preview: r.preview,
          requestedBy: r.requestedByName ?? r.requestedBy,
          approvals: `${r.approvals.length} of ${r.approvalsNeeded}`,
          expiresAt: r.expiresAt,
        }));
      },
    },
    interactions: actionHandlers(service, definitions),
    workers: [queue],
    schedules: sweeper ? [sweeper] : [],
    async close() {
      await queue.close();
      await closeRedis(connection);
    },
  };
}

function definitionOf(id: string, a: ActionConfig, deps: RunnerDeps): ActionDefinition {
  const run = createRunner(a.runner, deps);
  return {
    id,
    title: a.title,
    risk: a.risk,
    policy: a.policy,
    requesters: a.requesters,
    expiresAfterMs: a.expiresAfterMs,
    params: paramsSchemaFor(a.runner.params),
    paramHelp: paramHelp(a.runner.params),
    preview: (params) => previewRun(a.runner, params),
    run: (params, ctx) => run(params, ctx),
    needsReason: a.reasonRequired,
    selfServiceUpToMs: a.selfServiceUpToMs,
    ...(a.runner.kind === 'builtin' && a.runner.builtin === 'alertmanager.silence' ? { reasonParam: 'comment' } : {}),
    checkTarget: (params) => checkTarget(a.runner, params, deps),
  };
}
