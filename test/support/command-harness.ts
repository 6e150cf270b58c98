import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { commands } from '../../commands/index.ts';
import { bindCommands, type Invoker } from '../../src/core/command.ts';
import type { InspectDeps } from '../../commands/deps.ts';
import { endpointOf } from '../../src/core/dependency-errors.ts';
import { createDispatcher, type CommandRun, type DispatchResult } from '../../src/core/dispatch.ts';
import type { AppError } from '../../src/core/errors.ts';
import type { Reply, Section } from '../../src/core/reply.ts';
import { createHealthService, type HealthSnapshot } from '../../src/probes/health.ts';
import type { BackupTarget } from '../../src/probes/backup-probe.ts';
import type { HttpTarget } from '../../src/probes/http-probe.ts';
import { createPool } from '../../src/db/pools.ts';
import { connectProbeRedis } from '../../src/db/redis-clients.ts';
import { createLogger } from '../../src/log.ts';
import { createQueueInspector, type QueueThresholds } from '../../src/probes/queue-inspector.ts';
import type { EvaluatedReading } from '../../src/probes/reading.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName } from './env.ts';
import { deleteKeysUnder } from './redis-keys.ts';

/**
 * The real commands through the real dispatcher, with real dependencies: a pg Pool, ioredis,
 * the BullMQ queue inspector and the health service. Each test file makes its own harness, so it
 * has its own BullMQ prefix and its own things to close, and depends on no other file.
 */
export const invoker: Invoker = { surface: 'cli', userId: 'U_TEST', userName: 'tester' };
export const relaxed = (): QueueThresholds => ({ waiting: 1000, failed: 1000 });
export const PROBE_TIMEOUT_MS = 1000;
/** Generous: the point is "does not hang", on a loaded 2-core machine. */
export const REPLY_WITHIN_MS = PROBE_TIMEOUT_MS + 3000;
// A fixed clock, so ages are exact: the oldest emails job was created 10 minutes before it.
export const NOW = Date.now();
export const MINUTE = 60_000;

export type Overrides = Partial<InspectDeps> & {
  redis?: Redis | null;
  httpTargets?: HttpTarget[];
  backups?: BackupTarget[];
  /** As the container explains a dependency's failure ("Redis at host:port refused …"); none by default. */
  explainError?: (err: unknown) => AppError | null;
};
type Closer = () => Promise<void> | void;

export function section(reply: Reply, heading: string): Section {
  const found = reply.sections?.find((s) => s.heading === heading);
  if (!found) throw new Error(`no section "${heading}" in ${JSON.stringify(reply.sections?.map((s) => s.heading))}`);
  return found;
}

export function field(reply: Reply, heading: string, label: string): string | undefined {
  return section(reply, heading).fields?.find((f) => f.label === label)?.value;
}

export function checksOf(reply: Reply): Map<string, EvaluatedReading> {
  return new Map((reply.data as HealthSnapshot).checks.map((c) => [c.name, c]));
}

/**
 * One test file's harness. Call `start()` in `beforeAll` (a read-only pool on the test database and
 * a probe Redis client) and `stop()` in `afterAll` (deletes every key under this harness's prefix,
 * then closes whatever it or the tests opened, newest first).
 */
export function commandHarness() {
  const prefix = uniqueName('commands');
  const closers: Closer[] = [];
  let pool: pg.Pool | undefined;
  let redis: Redis | undefined;

  /** Closed by `stop()`, after everything registered before it. */
  function defer(...close: Closer[]): void {
    closers.push(...close);
  }

  /** Built as the container builds its probe pool; `readOnly: false` only where a test sets things up. */
  function makePool(connectionString: string, readOnly = true): pg.Pool {
    const p = createPool(connectionString, { name: 'vigil-test', max: 4, readOnly, onIdleError: () => undefined });
    defer(() => (p.ended ? undefined : p.end()));
    return p;
  }

  function started<T>(value: T | undefined, what: string): T {
    if (value === undefined) throw new Error(`command harness: ${what} is not there before start()`);
    return value;
  }

  function dispatcherFor(overrides: Overrides = {}) {
    const r = overrides.redis === undefined ? started(redis, 'redis') : overrides.redis;
    const db = overrides.db === undefined ? started(pool, 'pool') : overrides.db;
    const queues = overrides.queues === undefined ? (r ? createQueueInspector({ redis: r, prefix }) : null) : overrides.queues;
    if (queues) defer(() => queues.close());
    const missing = overrides.missing ?? {};
    const thresholdsFor = overrides.thresholdsFor ?? relaxed;
    const now = overrides.now ?? ((): number => NOW);
    // A test that passes `now` ages /health's snapshots by it (no sleeping); otherwise they age in
    // real time while queue ages stay fixed at NOW.
    const health = createHealthService(
      { db, redis: r, queues, thresholdsFor, httpTargets: overrides.httpTargets ?? [], backups: overrides.backups ?? [], timeoutMs: PROBE_TIMEOUT_MS, missing, now },
      overrides.now ?? Date.now,
    );
    const runs: CommandRun[] = [];
    // A test that passes another Redis says where it is; the default is the suite's.
    const redisAt = overrides.redisAt === undefined ? (endpointOf(TEST_REDIS_URL, 6379) ?? null) : overrides.redisAt;
    const deps: InspectDeps = { health, db, queues, redis: r, redisAt, missing, thresholdsFor, now, ...(overrides.actionButton ? { actionButton: overrides.actionButton } : {}), ...(overrides.sizeHistory ? { sizeHistory: overrides.sizeHistory } : {}) };
    const dispatcher = createDispatcher({
      commands: bindCommands([commands.health, commands.queue, commands.slowqueries, commands.db, commands.redis], deps),
      onRun: (run) => runs.push(run),
      ...(overrides.explainError ? { explainError: overrides.explainError } : {}),
    });
    return {
      runs,
      health,
      run: (slash: string, text = ''): Promise<DispatchResult> => dispatcher.dispatch(slash, text, invoker),
    };
  }

  /** A local HTTP server answering `status(path)` after `delayMs`, counting the requests it got. */
  async function startTarget(status: (path: string) => number, delayMs = 0): Promise<{ base: string; port: number; hits: () => number }> {
    let hits = 0;
    const server: Server = createServer((req, res) => {
      hits += 1;
      setTimeout(() => res.writeHead(status(req.url ?? '/')).end(), delayMs);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    defer(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as AddressInfo).port;
    return { base: `http://127.0.0.1:${port}`, port, hits: () => hits };
  }

  async function start(): Promise<void> {
    pool = makePool(TEST_DATABASE_URL);
    const client = await connectProbeRedis(TEST_REDIS_URL, createLogger('silent'));
    redis = client;
    defer(() => client.disconnect());
  }

  /**
   * Two queues under this harness's prefix, aged against NOW:
   *   emails:  2 waiting (10m and 2m old) and 1 delayed
   *   reports: 1 waiting (3m old)
   */
  async function seedQueues(): Promise<void> {
    const connection = started(redis, 'redis');
    const emails = new Queue('emails', { connection, prefix });
    const reports = new Queue('reports', { connection, prefix });
    defer(() => emails.close(), () => reports.close());
    await emails.addBulk([
      { name: 'welcome', data: {}, opts: { timestamp: NOW - 10 * MINUTE } },
      { name: 'welcome', data: {}, opts: { timestamp: NOW - 2 * MINUTE } },
      { name: 'digest', data: {}, opts: { delay: 60_000 } },
    ]);
    await reports.add('monthly', {}, { timestamp: NOW - 3 * MINUTE });
  }

  async function stop(): Promise<void> {
    if (redis) await deleteKeysUnder(redis, prefix);
    for (const close of closers.reverse()) await close();
    closers.length = 0;
  }

  return {
    prefix,
    /** The read-only pool on the test database, from `start()`. */
    get pool(): pg.Pool {
      return started(pool, 'pool');
    },
    /** The probe Redis client, from `start()`. */
    get redis(): Redis {
      return started(redis, 'redis');
    },
    defer,
    makePool,
    dispatcherFor,
    startTarget,
    start,
    seedQueues,
    stop,
  };
}
