import { runCommand, type ActionSummary, type RunCommandDeps } from '../../commands/run.ts';
import { appendAuditEvents } from '../audit/chain.ts';
import type { ActionConfig } from '../actions/catalog-config.ts';
import type { ActionDefinition } from '../actions/definition.ts';
import { APPROVE_HANDLER, DENY_HANDLER, REQUEST_FORM, REQUEST_HANDLER } from '../actions/messages.ts';
import { paramHelp, paramsSchemaFor } from '../actions/params.ts';
import { REQUEST_ID } from '../actions/request.ts';
import type { RunnerDeps } from '../actions/runners/index.ts';
import { z } from 'zod';
import { bindCommands } from '../core/command.ts';
import { AppError } from '../core/errors.ts';
import type { Feature } from '../core/feature.ts';
import type { InteractionHandler } from '../core/interactions.ts';
import type { Infrastructure } from '../container.ts';
import { closeRedis, createQueueConnection } from '../db/redis-clients.ts';

// Expiries, interrupted runs and lost jobs are looked for this often (one replica per tick).
const SWEEP_CRON = '*/5 * * * * *';

/**
 * Approved actions: /run asks, approvers decide with buttons in the approvals channel, a BullMQ
 * worker runs each approved request exactly once and reports in the thread. Every step is in the
 * audit trail, in the same transaction as the change it records.
 *
 * The service, runners, queue and schedule (BullMQ, node-cron) are imported only when actions
 * are configured, so a process without them does not load them.
 */
export async function actionsFeature(infra: Infrastructure): Promise<Feature> {
  const { config, log } = infra;
  const cfg = config.file.actions;
  const catalog = cfg ? Object.entries(cfg.catalog) : [];
  const paramNames = [...new Set(catalog.flatMap(([, a]) => Object.keys(a.runner.params)))];
  const notConfigured: RunCommandDeps = { actions: null, missing: 'no actions are configured (actions.catalog in manifests/vigil.yaml)' };
  if (!cfg || catalog.length === 0) return { name: 'actions', commands: bindCommands([runCommand(paramNames)], notConfigured) };
  if (!infra.redisUrl) {
    return { name: 'actions', commands: bindCommands([runCommand(paramNames)], { actions: null, missing: `actions need Redis for their queue (${infra.missing.redis ?? 'none'})` }) };
  }

  const [{ createApproverDirectory }, { createActionMetrics }, runners, { createActionService }, { createActionQueue }, { createSchedule }] = await Promise.all([
    import('../actions/approvers.ts'),
    import('../actions/metrics.ts'),
    import('../actions/runners/index.ts'),
    import('../actions/service.ts'),
    import('../actions/worker.ts'),
    import('../schedules/schedule.ts'),
  ]);
  const connection = createQueueConnection(infra.redisUrl, log);
  const runnerDeps: RunnerDeps = {
    bullmq: { connection, prefix: config.file.bullmq.prefix },
    alertmanagerUrl: config.env.ALERTMANAGER_URL ?? null,
    db: infra.probeDb,
    env: config.processEnv,
  };
  const definitions = new Map<string, ActionDefinition>(catalog.map(([id, a]) => [id, definitionOf(id, a, runnerDeps, runners)]));
  const metrics = createActionMetrics(infra.metrics.registry, [...definitions.keys()]);
  let enqueue: (id: string) => Promise<void> = async () => undefined;
  const service = createActionService({
    state: infra.state,
    outbox: infra.outbox,
    approvalChannel: cfg.approvalChannel,
    catalog: definitions,
    directory: createApproverDirectory(infra.userGroups, log),
    audit: appendAuditEvents,
    enqueue: (id) => enqueue(id),
    metrics,
    log,
  });
  const queue = createActionQueue({ connection, prefix: config.file.state.queuePrefix, state: infra.state, service, audit: appendAuditEvents, metrics, log });
  enqueue = (id) => queue.enqueue(id);
  const sweeper = infra.probeRedis
    ? createSchedule({ name: 'actions-sweep', cron: SWEEP_CRON, redis: infra.probeRedis, keyPrefix: config.file.state.queuePrefix, log, run: () => queue.sweep() })
    : null;

  const decide = (decision: 'approve' | 'deny'): InteractionHandler => ({
    id: decision === 'approve' ? APPROVE_HANDLER : DENY_HANDLER,
    async handle(interaction) {
      if (interaction.kind !== 'button' || !REQUEST_ID.test(interaction.value)) throw new AppError('stale', 'This button does not name an action request.');
      return service.decide(decision, interaction.value, interaction.invoker);
    },
  });
  // A button elsewhere (/queue, an alert message) requests an action; one that needs a reason
  // asks for it in a form first, whose submission makes the request.
  const requestButton: InteractionHandler = {
    id: REQUEST_HANDLER,
    async handle(interaction) {
      if (interaction.kind !== 'button') throw new AppError('stale', 'This form does not request an action.');
      const parsed = requestValue.safeParse(safeJson(interaction.value));
      if (!parsed.success) throw new AppError('stale', 'This button does not name an action to request.');
      const def = definitions.get(parsed.data.action);
      if (def?.needsReason) {
        const fields = [{ id: 'reason', label: 'Why?', hint: `Shown to approvers${def.reasonParam ? ' and kept with the silence' : ''}`, multiline: true, maxLength: 500 }];
        return { form: { handler: REQUEST_FORM, title: 'Reason needed', submit: 'Request', fields, privateMetadata: interaction.value } };
      }
      return { reply: await service.request(parsed.data.action, parsed.data.params, null, interaction.invoker) };
    },
  };
  const requestForm: InteractionHandler = {
    id: REQUEST_FORM,
    async handle(interaction) {
      const parsed = interaction.kind === 'form' ? requestValue.safeParse(safeJson(interaction.privateMetadata)) : null;
      if (!parsed?.success || interaction.kind !== 'form') throw new AppError('stale', 'This form does not name an action to request.');
      const reason = (interaction.values.reason ?? '').trim();
      if (!reason) return { errors: { reason: 'Say why: approvers see it.' } };
      try {
        return { reply: await service.request(parsed.data.action, parsed.data.params, reason.slice(0, 500), interaction.invoker) };
      } catch (err) {
        // Shown in the form itself, so nothing typed is lost.
        if (err instanceof AppError) return { errors: { reason: err.userMessage } };
        throw err;
      }
    },
  };
  const summaries: ActionSummary[] = [...definitions.values()].map((d) => ({
    id: d.id,
    title: d.title,
    risk: d.risk,
    usage: Object.entries(d.paramHelp)
      .map(([name, help]) => `--${name} ${help}`)
      .join(' '),
    approval: d.policy ? `${d.policy.approvals} approver(s)` : 'none',
  }));
  infra.announce(`Actions: ${definitions.size} in the catalog, approvals in ${cfg.approvalChannel}${infra.outbox ? '' : ' (no Slack: requests are kept, nothing is posted)'}`);
  return {
    name: 'actions',
    commands: bindCommands([runCommand(paramNames)], {
      actions: { list: () => summaries, request: (id, params, reason, invoker) => service.request(id, params, reason, invoker) },
      missing: undefined,
    }),
    interactions: [decide('approve'), decide('deny'), requestButton, requestForm],
    workers: [queue],
    schedules: sweeper ? [sweeper] : [],
    async close() {
      await queue.close();
      await closeRedis(connection);
    },
  };
}

const requestValue = z.object({ action: z.string().max(61), params: z.record(z.string(), z.union([z.string(), z.number()])) }).strict();

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function definitionOf(id: string, a: ActionConfig, deps: RunnerDeps, runners: typeof import('../actions/runners/index.ts')): ActionDefinition {
  const { checkTarget, createRunner, previewRun } = runners;
  const run = createRunner(a.runner, deps);
  return {
    id,
    title: a.title,
    risk: a.risk,
    policy: a.policy,
    expiresAfterMs: a.expiresAfterMs,
    params: paramsSchemaFor(a.runner.params),
    paramHelp: paramHelp(a.runner.params),
    preview: (params) => previewRun(a.runner, params),
    run: (params, ctx) => run(params, ctx),
    needsReason: a.reasonRequired,
    ...(a.runner.kind === 'builtin' && a.runner.builtin === 'alertmanager.silence' ? { reasonParam: 'comment' } : {}),
    checkTarget: (params) => checkTarget(a.runner, params, deps),
  };
}
