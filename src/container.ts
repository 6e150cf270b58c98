import type pg from 'pg';
import type { Redis } from 'ioredis';
import { join } from 'node:path';
import type { Config } from './config/load.ts';
import { redactUrl } from './core/redact.ts';
import type { Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createDispatcher, type Dispatcher } from './core/dispatch.ts';
import { createInteractionDispatcher, openLinkHandler, type InteractionDispatcher } from './core/interactions.ts';
import { suggestionHandler } from './core/suggestion-handler.ts';
import type { Runnable } from './core/runnable.ts';
import type { Feature, FeatureFactory } from './features/feature.ts';
import type { Infrastructure } from './infrastructure.ts';
import { createProbeServices } from './probes/probe-services.ts';
import { createMessageRefs, messageLink } from './slack/outbox/refs.ts';
import { createAuditWriter } from './audit/audit-writer.ts';
import { auditChain, auditKeyFrom } from './audit/chain.ts';
import { auditAnchorPath } from './audit/anchor.ts';
import { openAuditSpool } from './audit/audit-spool.ts';
import { buildOutbox, buildRelayOutbox } from './slack/outbox/build.ts';
import { databaseIdentity, spoolDirFor, spoolsElsewhere } from './audit/spool-place.ts';
import { commandRunEvent } from './audit/command-log.ts';
import { describeError, type AppError } from './core/errors.ts';
import { endpointOf, explainDependencyError, type Endpoints } from './core/dependency-errors.ts';
import { createPool } from './db/pools.ts';
import { closeRedis, connectProbeRedis, lastLinkError } from './db/redis-clients.ts';
import { createStateStore, describeState, type StateStore } from './db/state.ts';
import { opsRoutes } from './http/ops-routes.ts';
import { auditReadiness, readinessChecks } from './http/readiness.ts';
import type { Route } from './http/route.ts';
import { resolveEndpoint } from './embedded/resolve-endpoint.ts';
import { features as defaultFeatures } from './features/index.ts';
import { createMemberDirectory } from './access/members.ts';
import { createAccessPolicy } from './access/policy.ts';
import { createAccessMetrics } from './access/metrics.ts';
import { clickRefusedEvent } from './audit/command-log.ts';
import { lazyUserGroupReader } from './slack/lazy-user-groups.ts';

export interface Container {
  infra: Infrastructure;
  features: readonly Feature[];
  commands: Dispatcher;
  interactions: InteractionDispatcher;
  /** Every feature's routes plus /healthz, /readyz and /metrics. Slack adds its own. */
  routes: Route[];
  /** Wait for audit rows still being written (tests, shutdown). */
  flushAudit(): Promise<void>;
  /** Start the features' workers and schedules: the bot does, the CLI never. */
  startBackground(): Promise<void>;
  /** Stop background work, close features, flush the audit, then close connections and embedded servers. */
  close(): Promise<void>;
}

export interface ContainerOptions {
  log: Logger;
  /** One line per dependency at start: what is used. */
  announce: (line: string) => void;
  /** Start embedded Postgres/Redis when no URL is configured (the bot and CLI do; tests don't). */
  embedded: boolean;
  /** The bot opens Vigil's own queues and the Slack client; a one-shot CLI run needs neither. */
  /** `runner`: `vigil runner`, which runs approved actions and nothing else (no Slack, no HTTP). */
  role: 'bot' | 'cli' | 'runner';
  features?: readonly FeatureFactory[];
}

/**
 * The single composition root: the only place that creates pools, connections, clients, metrics.
 *
 * What only the bot uses (the Slack Web API client, the outbox and its BullMQ worker) and the
 * embedded servers (only without a URL) are imported when they are built, not with this module:
 * a one-shot CLI call would otherwise load them for nothing (tens of ms, and memory).
 */
export async function createContainer(config: Config, opts: ContainerOptions): Promise<Container> {
  const { log } = opts;
  const stops: Array<() => Promise<void>> = [];
  const { infra, background: infraBackground, stateIdentity } = await buildInfrastructure(config, opts, stops);

  const features: Feature[] = [];
  for (const factory of opts.features ?? defaultFeatures) features.push(await factory(infra));
  const boundCommands = features.flatMap((f) => f.commands ?? []);
  const accessMetrics = createAccessMetrics(infra.metrics.registry);

  const spoolDir = spoolDirFor(config.dataDir, stateIdentity);
  for (const other of spoolsElsewhere(config.dataDir, spoolDir)) {
    log.warn(
      { dir: other.dir, database: other.database, bytes: other.bytes },
      'audit events spooled for another database wait on disk; they are replayed only by a Vigil using that database',
    );
  }
  const audit = createAuditWriter({ state: infra.state, key: auditKeyFrom(config.env.VIGIL_AUDIT_KEY), log, registry: infra.metrics.registry, spool: openAuditSpool(spoolDir) });
  const commands = createDispatcher({
    commands: boundCommands,
    onRun: (run) => {
      infra.metrics.recordRun(run);
      if (run.outcome === 'refused') accessMetrics.refused('command', run.command, run.invoker.surface);
    },
    recordRun: (run) => audit.record(commandRunEvent(run)),
    authorize: (name, invoker, asPublic) => infra.access.check({ kind: 'command', name, public: asPublic }, invoker),
    logError: (message, run) => log.error({ command: run.command, surface: run.invoker.surface }, message),
    explainError: infra.explainError,
  });
  const interactions = createInteractionDispatcher({
    handlers: [suggestionHandler(commands), openLinkHandler, ...features.flatMap((f) => f.interactions ?? [])],
    onRun: (run) => {
      infra.metrics.recordInteraction(run);
      if (run.outcome !== 'refused') return;
      accessMetrics.refused('click', run.handler, run.invoker.surface);
      // Refused by a handler's `access` (a request button's refusal is audited with its action).
      if (run.refusal) audit.record(clickRefusedEvent(run));
    },
    authorize: (name, invoker) => infra.access.capability(name, invoker),
    logError: (message, run) => log.error({ handler: run.handler, surface: run.invoker.surface }, message),
    explainError: infra.explainError,
  });

  // The chain's head, kept outside the database (a cut tail or a rewritten chain shows there): first
  // to start, last to stop, so its final anchor comes after everything else wrote its events.
  const anchor =
    opts.role === 'bot' && infra.probeRedis && infra.auditAnchorPath
      ? [(await import('./audit/anchor-schedule.ts')).auditAnchorSchedule(config, infra.auditAnchorPath, infra.state, infra.probeRedis, log, () => audit.flush())]
      : [];
  // Infrastructure's own workers (the outbox) start first and stop last: features rely on them.
  const background: Runnable[] = [...anchor, ...infraBackground, ...features.flatMap((f) => [...(f.workers ?? []), ...(f.schedules ?? [])])];
  const started: Runnable[] = [];
  return {
    infra,
    features,
    commands,
    interactions,
    routes: [...opsRoutes({ readiness: [...readinessChecks(infra), auditReadiness(audit)], registry: infra.metrics.registry }), ...features.flatMap((f) => f.routes ?? [])],
    flushAudit: () => audit.flush(),
    async startBackground() {
      for (const runnable of background) {
        await runnable.start();
        started.push(runnable);
      }
    },
    async close() {
      for (const runnable of started.splice(0).reverse()) await runnable.stop();
      for (const feature of [...features].reverse()) await feature.close?.();
      // After the features that read them, before the connections they read through.
      await infra.probes.close();
      await infra.outbox?.close();
      // Before the pools close: what cannot be written in time is spooled to disk for the next start.
      await audit.close();
      infra.probeRedis?.disconnect();
      await Promise.all([infra.probeDb?.end(), infra.state.pool?.end()]);
      for (const stop of stops.reverse()) await stop();
    },
  };
}

async function buildInfrastructure(
  config: Config,
  opts: ContainerOptions,
  stops: Array<() => Promise<void>>,
): Promise<{ infra: Infrastructure; background: Runnable[]; stateIdentity: string }> {
  const { log, announce } = opts;
  const missing: Infrastructure['missing'] = {};
  const onIdleError = (err: Error) => log.warn({ err: describeError(err) }, 'postgres idle client error');

  const pgDataDir = join(config.dataDir, 'pg');
  const postgres = await resolveEndpoint(
    {
      label: 'Postgres',
      envName: 'DATABASE_URL',
      configured: config.env.DATABASE_URL,
      startEmbedded: async () => (await import('./embedded/postgres-server.ts')).startEmbeddedPostgres({ dataDir: pgDataDir, log: (line) => log.debug(line) }),
      embeddedLine: (url) => `embedded PostgreSQL, data in ${pgDataDir}, ${redactUrl(url)}`,
      unavailable: (err) => `embedded PostgreSQL did not start (${describeError(err)}); set DATABASE_URL`,
    },
    { embedded: opts.embedded, announce, stops },
  );
  const inspectedUrl = 'url' in postgres ? postgres.url : null;
  if ('missing' in postgres) missing.postgres = postgres.missing;
  const probeDb = inspectedUrl ? createPool(inspectedUrl, { name: 'vigil-probes', max: config.file.probes.poolMax, readOnly: true, onIdleError }) : null;

  // Vigil's own state: where VIGIL_DATABASE_URL says, else beside what it inspects (schema vigil).
  const stateUrl = config.env.VIGIL_DATABASE_URL ?? inspectedUrl;
  const statePool = stateUrl ? createPool(stateUrl, { name: 'vigil-state', max: config.file.state.poolMax, onIdleError }) : null;
  const state = createStateStore(statePool, missing.postgres ?? 'no database');
  const where = config.env.VIGIL_DATABASE_URL ? `VIGIL_DATABASE_URL ${redactUrl(config.env.VIGIL_DATABASE_URL)}` : 'the inspected database';
  // Migrated here, once, before anything is served; said once, whatever the outcome.
  announce(describeState(await state.ready(), where));

  const redisEndpoint = await resolveEndpoint(
    {
      label: 'Redis',
      envName: 'REDIS_URL',
      configured: config.env.REDIS_URL,
      startEmbedded: async () =>
        (await import('./embedded/redis-server.ts')).startEmbeddedRedis({ dir: join(config.dataDir, 'redis'), log: (line) => log.debug(line), pathEnv: config.pathEnv }),
      embeddedLine: (url) => `redis-server from PATH at ${url}`,
      // The embedded module's message already says how to get redis-server.
      unavailable: describeError,
    },
    { embedded: opts.embedded, announce, stops },
  );
  if ('missing' in redisEndpoint) missing.redis = redisEndpoint.missing;
  const probeRedis = 'url' in redisEndpoint ? await connectProbeRedis(redisEndpoint.url, log) : null;

  // The process metrics (CPU, heap, event-loop lag) are for the bot's /metrics; a CLI run has none.
  const metrics = createMetrics({ processMetrics: opts.role === 'bot' });
  const redisUrl = 'url' in redisEndpoint ? redisEndpoint.url : null;
  // The CLI too (`vigil approve` by a member of an approver group), loaded on first use only.
  const userGroups = config.slack.kind !== 'none' ? lazyUserGroupReader({ token: config.slack.botToken, ...(config.slackApiUrl ? { slackApiUrl: config.slackApiUrl } : {}), log }) : null;
  const members = createMemberDirectory(userGroups, log);
  const auditKey = auditKeyFrom(config.env.VIGIL_AUDIT_KEY);
  const endpoints: Endpoints = { postgres: endpointOf(inspectedUrl, 5432), redis: endpointOf(redisUrl, 6379) };
  const explainError = (err: unknown) => explainDependencyError(err, endpoints, () => (probeRedis ? lastLinkError(probeRedis) : undefined));
  const probes = createProbeServices({ config, probeDb, probeRedis, missing, explainError });
  const messageLinkOf = async (key: string) => {
    const s = await state.ready();
    return s.kind === 'ready' ? messageLink(createMessageRefs(s.pool), key) : null;
  };
  const infra: Infrastructure = {
    config,
    log,
    metrics,
    probeDb,
    state,
    probeRedis,
    missing,
    outbox: null,
    relayOutbox: null,
    announce,
    redisUrl,
    role: opts.role,
    userGroups,
    members,
    audit: auditChain(auditKey),
    // None while the state is off (a role that may write nowhere): there is no trail to anchor.
    auditAnchorPath: stateUrl && state.status().kind !== 'off' ? auditAnchorPath(config, databaseIdentity(stateUrl)) : null,
    access: createAccessPolicy(config.file.access, members),
    explainError,
    probes,
    messageLink: messageLinkOf,
  };
  const background: Runnable[] = [];
  const built = opts.role === 'bot' ? await buildOutbox(config, log, metrics, state, 'url' in redisEndpoint ? redisEndpoint.url : null) : null;
  if (built && 'missing' in built) {
    infra.outboxMissing = built.missing;
    announce(`Slack outbox: off (${built.missing})`);
  } else if (built) {
    const { outbox, connection } = built;
    infra.outbox = outbox;
    background.push({ name: 'slack-outbox', start: () => outbox.startWorker(), stop: () => outbox.close() });
    // Postgres holds every message; what Redis lost (a restart without persistence) is put back in line.
    if (probeRedis) {
      const { createSchedule } = await import('./schedules/schedule.ts');
      const run = async () => void (await outbox.reconcile());
      background.push(createSchedule({ name: 'slack-outbox-reconcile', cron: '*/10 * * * * *', redis: probeRedis, keyPrefix: config.file.state.queuePrefix, log, run, runOnStart: true }));
    }
    // Runs after the outbox closed and before the embedded servers stop (stops run in reverse).
    stops.push(() => closeRedis(connection));
  }
  if (!infra.outbox && config.file.actions) {
    const relay = await buildRelayOutbox(config, log, metrics, state, redisUrl);
    if (relay) {
      infra.relayOutbox = relay.outbox;
      stops.push(async () => {
        await relay.outbox.close();
        await closeRedis(relay.connection);
      });
    }
  }
  // Which database the audit spool belongs to (credentials left out): see src/audit/spool-place.ts.
  const configuredState = config.env.VIGIL_DATABASE_URL ?? config.env.DATABASE_URL;
  const stateIdentity = configuredState && URL.canParse(configuredState) ? databaseIdentity(configuredState) : `embedded ${pgDataDir}`;
  return { infra, background, stateIdentity };
}
