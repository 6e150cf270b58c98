import pg from 'pg';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import type { Config } from './config/load.ts';
import { redactUrl } from './config/redact.ts';
import type { Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createQueueInspector, type QueueInspector, type QueueThresholds } from './probes/queues.ts';
import { createHealthService, type HealthService } from './probes/health.ts';
import { createDispatcher, type Dispatcher } from './core/dispatch.ts';
import { commands } from '../commands/index.ts';
import { createCommandAudit } from './audit/command-audit.ts';
import { createSlackApp, type SlackApp } from './slack/app.ts';
import { describeError } from './core/errors.ts';
import { withTimeout } from './core/timeout.ts';
import { requireDep } from './core/deps.ts';
import type { ReadinessCheck } from './http/server.ts';
import { startEmbeddedPostgres } from './embedded/postgres.ts';
import { startEmbeddedRedis } from './embedded/redis.ts';

export interface Container {
  config: Config;
  log: Logger;
  metrics: Metrics;
  pool: pg.Pool | null;
  redis: Redis | null;
  queues: QueueInspector | null;
  health: HealthService;
  dispatcher: Dispatcher;
  slack: SlackApp | null;
  readiness: ReadinessCheck[];
  /** Wait for audit rows still being written (tests, shutdown). */
  flushAudit(): Promise<void>;
  close(): Promise<void>;
}

export interface ContainerOptions {
  log: Logger;
  /** One line per dependency at start: what is used. */
  announce: (line: string) => void;
  /** Start embedded Postgres/Redis when no URL is configured (the bot and CLI do; tests don't). */
  embedded: boolean;
  /** Build the Slack app (the bot does; the CLI does not). */
  slack: boolean;
  botIdentity?: { botId: string; botUserId: string };
}

/** The single composition root: the only place that creates pools, connections, clients, metrics. */
export async function createContainer(config: Config, opts: ContainerOptions): Promise<Container> {
  const { log, announce } = opts;
  const stops: Array<() => Promise<void>> = [];
  const missing: { postgres?: string; redis?: string } = {};

  const pgDataDir = join(config.dataDir, 'pg');
  const postgres = await resolveEndpoint(
    {
      label: 'Postgres',
      envName: 'DATABASE_URL',
      configured: config.env.DATABASE_URL,
      startEmbedded: () => startEmbeddedPostgres({ dataDir: pgDataDir, log: (line) => log.debug(line) }),
      embeddedLine: (url) => `embedded PostgreSQL, data in ${pgDataDir}, ${redactUrl(url)}`,
      unavailable: (err) => `embedded PostgreSQL did not start (${describeError(err)}); set DATABASE_URL`,
    },
    opts,
    stops,
  );
  const databaseUrl = 'url' in postgres ? postgres.url : null;
  if ('missing' in postgres) missing.postgres = postgres.missing;
  const pool = databaseUrl ? createPool(databaseUrl, log, 10, 'vigil') : null;
  // Audit writes (one batching writer) get their own connection: probes never queue behind INSERTs.
  const auditPool = databaseUrl ? createPool(databaseUrl, log, 1, 'vigil-audit') : null;

  const redisEndpoint = await resolveEndpoint(
    {
      label: 'Redis',
      envName: 'REDIS_URL',
      configured: config.env.REDIS_URL,
      startEmbedded: () => startEmbeddedRedis({ dir: join(config.dataDir, 'redis'), log: (line) => log.debug(line), pathEnv: config.pathEnv }),
      embeddedLine: (url) => `redis-server from PATH at ${url}`,
      // The embedded module's message already says how to get redis-server.
      unavailable: describeError,
    },
    opts,
    stops,
  );
  if ('missing' in redisEndpoint) missing.redis = redisEndpoint.missing;
  const redis = 'url' in redisEndpoint ? await connectRedis(redisEndpoint.url, log) : null;

  const queues = redis ? createQueueInspector({ redis, prefix: config.file.bullmq.prefix }) : null;
  const thresholdsFor = (queue: string): QueueThresholds => ({
    ...config.file.bullmq.thresholds,
    ...config.file.bullmq.queues[queue],
  });
  const health = createHealthService({
    db: pool,
    redis,
    queues,
    thresholdsFor,
    httpTargets: config.file.probes.http.map((t) => ({ ...t, timeoutMs: t.timeoutMs ?? config.file.probes.timeoutMs })),
    timeoutMs: config.file.probes.timeoutMs,
    missing,
  });
  const metrics = createMetrics();
  const audit = createCommandAudit({ pool: auditPool, log, failures: metrics.auditFailures });
  const dispatcher = createDispatcher({
    commands,
    deps: { health, db: pool, queues, missing, thresholdsFor, now: Date.now },
    onRun: (run) => {
      metrics.recordRun(run);
      audit.record(run);
    },
    logError: (message, run) => log.error({ command: run.command, surface: run.invoker.surface }, message),
  });

  const slack = opts.slack && config.slack.kind !== 'none' ? createSlackApp({ mode: config.slack, slackApiUrl: config.slackApiUrl, log, ...(opts.botIdentity ? { botIdentity: opts.botIdentity } : {}) }) : null;
  announce(
    config.slack.kind === 'http'
      ? `Slack: HTTP, POST /slack/events on port ${config.env.PORT}${config.slackApiUrl ? ` (Web API at ${config.slackApiUrl})` : ''}`
      : config.slack.kind === 'socket'
        ? 'Slack: Socket Mode (SLACK_APP_TOKEN)'
        : 'Slack: not configured, shell mode (set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN)',
  );

  const readiness: ReadinessCheck[] = [
    { name: 'postgres', check: async () => void (await withTimeout(requireDep(pool, 'Postgres', missing.postgres).query('SELECT 1'), 1000, 'Postgres')) },
    { name: 'redis', check: async () => void (await withTimeout(requireDep(redis, 'Redis', missing.redis).ping(), 1000, 'Redis')) },
  ];

  return {
    config,
    log,
    metrics,
    pool,
    redis,
    queues,
    health,
    dispatcher,
    slack,
    readiness,
    flushAudit: () => audit.flush(),
    async close() {
      await audit.flush();
      await queues?.close();
      redis?.disconnect();
      await Promise.all([pool?.end(), auditPool?.end()]);
      for (const stop of stops.reverse()) await stop();
    },
  };
}

interface EndpointSpec {
  label: 'Postgres' | 'Redis';
  envName: 'DATABASE_URL' | 'REDIS_URL';
  configured: string | undefined;
  startEmbedded: () => Promise<{ url: string; stop(): Promise<void> }>;
  /** The start-up line once the embedded server runs. */
  embeddedLine: (url: string) => string;
  /** Why it is missing when the embedded server could not start (shown by /health). */
  unavailable: (err: unknown) => string;
}

/**
 * The URL to use for one dependency: the configured one, else an embedded server (bot and CLI),
 * else none and why. Announces the choice in one line.
 */
async function resolveEndpoint(spec: EndpointSpec, opts: ContainerOptions, stops: Array<() => Promise<void>>): Promise<{ url: string } | { missing: string }> {
  if (spec.configured) {
    opts.announce(`${spec.label}: ${spec.envName} ${redactUrl(spec.configured)}`);
    return { url: spec.configured };
  }
  if (!opts.embedded) {
    opts.announce(`${spec.label}: not configured (set ${spec.envName})`);
    return { missing: `${spec.envName} is not set` };
  }
  try {
    const embedded = await spec.startEmbedded();
    stops.push(embedded.stop);
    opts.announce(`${spec.label}: ${spec.embeddedLine(embedded.url)}`);
    return { url: embedded.url };
  } catch (err) {
    const missing = spec.unavailable(err);
    opts.announce(`${spec.label}: unavailable: ${missing}`);
    return { missing };
  }
}

function createPool(url: string, log: Logger, max: number, name: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    // Fail fast: a probe waiting 30 s for a connection is worse than a clear "unreachable".
    connectionTimeoutMillis: 1500,
    idleTimeoutMillis: 30_000,
    statement_timeout: 5000,
    application_name: name,
  });
  // An idle client losing its server emits here; without a listener it would crash the process.
  pool.on('error', (err) => log.warn({ err: describeError(err) }, 'postgres idle client error'));
  return pool;
}

/**
 * A fast-failing client: commands error at once while Redis is down (no offline queue) and it
 * reconnects in the background, so /health reports "down" instead of hanging.
 */
async function connectRedis(url: string, log: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    connectTimeout: 1000,
    commandTimeout: 1500,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
  });
  let lastError = '';
  redis.on('error', (err: Error) => {
    // Reconnect attempts repeat the same error; log each distinct one once.
    const message = describeError(err);
    if (message !== lastError) log.warn({ err: message }, 'redis connection error');
    lastError = message;
  });
  redis.on('ready', () => {
    lastError = '';
  });
  await redis.connect().catch((err: unknown) => log.warn({ err: describeError(err) }, 'redis not reachable at start; will keep retrying'));
  return redis;
}
