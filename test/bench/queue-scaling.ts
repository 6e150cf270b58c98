/**
 * Benchmark: what `/queue` and `/health` cost as queues and jobs grow — 10 / 100 / 500 queues ×
 * 10 / 1,000 / 10,000 jobs each (up to 5M job keys). The target: p99 ≤ 500 ms at 500 × 10,000,
 * and cost flat in jobs (the queue list is refreshed in the background, all queues are counted in
 * one round trip).
 *
 * Jobs are written straight in BullMQ v6's layout with pipelined raw writes (addBulk would take
 * minutes at this size): a hash per job, 40 % waiting, 40 % completed, 10 % failed, 10 % delayed,
 * every tenth queue paused. Everything lives in a Redis database index of its own (the first empty
 * one from 5 up, claimed with a marker key), so the other engineers' SCANs over db 0 do not walk
 * 5M keys; it is flushed at the end. Round trips are counted by Redis (MONITOR on that database)
 * in a separate pass, so MONITOR's own cost never lands in the timings.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stringify as toYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { createContainer, type Container } from '../../src/container.ts';
import type { Invoker } from '../../src/core/command.ts';
import type { ProbeServices } from '../../src/probes/probe-services.ts';
import { createQueueDiscovery } from '../../src/probes/queue-discovery.ts';
import { createLogger } from '../../src/log.ts';
import { renderBlocks } from '../../src/slack/blocks.ts';
import { TEST_REDIS_URL } from '../support/env.ts';
import { createTestDatabase } from '../support/pg.ts';
import { watchRedisCommands } from '../support/redis-monitor.ts';
import { ms, summarize, verdict, type Summary } from './stats.ts';

const QUEUE_COUNTS = [10, 100, 500];
const JOB_COUNTS = [10, 1000, 10_000];
const PREFIX = 'bench';
const WARMUP = 5;
const QUEUE_ITERATIONS = 100;
const HEALTH_ITERATIONS = 100;
const TARGET_P99_MS = 500;
/** Stop growing the table past this (the largest cell alone takes about a minute to write). */
const DEADLINE_MS = 10 * 60_000;
const PIPELINE_COMMANDS = 20_000;
const CLAIM_KEY = 'vigil-bench:queue-scaling:claimed';
const invoker: Invoker = { surface: 'cli', userId: 'bench' };

interface Cell {
  queues: number;
  jobs: number;
  keys: number;
  queue: Summary;
  health: Summary;
  stats: Summary;
  queueCommands: string;
  healthCommands: string;
  refreshMs: number;
  refreshScans: number;
}

export async function benchQueueScaling(): Promise<void> {
  console.log(`\nQueue scaling: /queue and /health over ${QUEUE_COUNTS.join(' / ')} queues × ${JOB_COUNTS.join(' / ')} jobs`);
  const started = performance.now();
  const { redis, db, url } = await claimDatabase();
  const database = await createTestDatabase('qscale');
  const workDir = await mkdtemp(join(tmpdir(), 'vigil-qscale-'));
  const cells: Cell[] = [];
  try {
    console.log(`  Redis db ${db} (claimed, flushed at the end), database ${database.name}`);
    outer: for (const queues of QUEUE_COUNTS) {
      await redis.flushdb();
      await redis.set(CLAIM_KEY, String(process.pid));
      let written = 0;
      let container: Container | null = null;
      let probes: ProbeServices | null = null;
      try {
        for (const jobs of JOB_COUNTS) {
          if (performance.now() - started > DEADLINE_MS) {
            console.log(`  deadline of ${DEADLINE_MS / 60_000} min reached: ${queues} × ${jobs} and larger not measured`);
            break outer;
          }
          const fillStart = performance.now();
          await fillQueues(redis, queues, written, jobs);
          written = jobs;
          const keys = await redis.dbsize();
          console.log(`  ${queues} × ${jobs}: ${keys.toLocaleString('en')} keys written in ${((performance.now() - fillStart) / 1000).toFixed(1)} s`);
          if (!container || !probes) {
            // Made once the queues exist: the first background SCAN lists them.
            container = await startVigil(url, database.url, workDir);
            probes = container.infra.probes;
          }
          cells.push(await measure(container, probes, url, db, queues, jobs, keys));
        }
      } finally {
        await container?.close();
      }
    }
  } finally {
    await redis.flushdb();
    redis.disconnect();
    await database.drop();
    await rm(workDir, { recursive: true, force: true });
  }
  printTable(cells);
}

/** The first empty database index from 5 up, claimed so a concurrent run picks another one. */
async function claimDatabase(): Promise<{ redis: Redis; db: number; url: string }> {
  for (let db = 5; db < 16; db++) {
    const redis = new Redis(TEST_REDIS_URL, { db, maxRetriesPerRequest: null });
    if ((await redis.dbsize()) === 0 && (await redis.set(CLAIM_KEY, String(process.pid), 'NX')) === 'OK') {
      const url = new URL(TEST_REDIS_URL);
      url.pathname = `/${db}`;
      return { redis, db, url: url.toString() };
    }
    redis.disconnect();
  }
  throw new Error('no empty Redis database index between 5 and 15');
}

async function startVigil(redisUrl: string, databaseUrl: string, workDir: string): Promise<Container> {
  const configPath = join(workDir, 'vigil.yaml');
  await writeFile(configPath, toYaml({ bullmq: { prefix: PREFIX }, state: { queuePrefix: `${PREFIX}_own` } }));
  const config = loadConfig({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, VIGIL_CONFIG: configPath, PATH: process.env.PATH }, workDir);
  return createContainer(config, { log: createLogger('error'), announce: () => undefined, embedded: false, role: 'cli' });
}

/** Tops every queue up from `from` to `to` jobs, in BullMQ v6's key layout. */
async function fillQueues(redis: Redis, queues: number, from: number, to: number): Promise<void> {
  const now = Date.now();
  let pipeline = redis.pipeline();
  let pending = 0;
  const flush = async (): Promise<void> => {
    if (pending === 0) return;
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
    pipeline = redis.pipeline();
    pending = 0;
  };
  for (let q = 0; q < queues; q++) {
    const base = `${PREFIX}:q${String(q).padStart(3, '0')}:`;
    if (from === 0) {
      pipeline.hset(`${base}meta`, 'opts.maxLenEvents', '10000', 'version', 'bullmq:6.7.0', ...(q % 10 === 9 ? ['paused', '1'] : []));
      pending += 1;
    }
    pipeline.set(`${base}id`, String(to));
    pending += 1;
    for (let i = from + 1; i <= to; i++) {
      const timestamp = now - (to - i) * 1000;
      const id = String(i);
      const fields = ['name', 'job', 'data', `{"i":${i}}`, 'opts', '{"attempts":1}', 'timestamp', String(timestamp), 'delay', '0', 'priority', '0'];
      const kind = i % 10;
      if (kind < 4) {
        pipeline.hset(`${base}${id}`, ...fields);
        pipeline.lpush(`${base}wait`, id);
      } else if (kind < 8) {
        pipeline.hset(`${base}${id}`, ...fields, 'processedOn', String(timestamp + 10), 'finishedOn', String(timestamp + 20), 'returnvalue', '"done"', 'attemptsMade', '1');
        pipeline.zadd(`${base}completed`, timestamp + 20, id);
      } else if (kind < 9) {
        pipeline.hset(`${base}${id}`, ...fields, 'processedOn', String(timestamp + 10), 'finishedOn', String(timestamp + 20), 'failedReason', 'bench failure', 'attemptsMade', '1');
        pipeline.zadd(`${base}failed`, timestamp + 20, id);
      } else {
        pipeline.hset(`${base}${id}`, ...fields.slice(0, 8), 'delay', '60000', 'priority', '0');
        pipeline.zadd(`${base}delayed`, (now + 60_000) * 0x1000 + (i % 0x1000), id);
      }
      pending += 2;
      if (pending >= PIPELINE_COMMANDS) await flush();
    }
  }
  await flush();
}

async function measure(container: Container, probes: ProbeServices, url: string, db: number, queues: number, jobs: number, keys: number): Promise<Cell> {
  const inspector = probes.queues;
  if (!inspector) throw new Error('the bench needs Redis');
  const listed = await inspector.discover();
  if (listed.length !== queues) throw new Error(`expected ${queues} queues listed, got ${listed.length}`);

  const queueTimes: number[] = [];
  for (let i = 0; i < WARMUP + QUEUE_ITERATIONS; i++) {
    const start = performance.now();
    const { reply } = await container.commands.dispatch('/queue', '', invoker);
    JSON.stringify(renderBlocks(reply));
    if (i >= WARMUP) queueTimes.push(performance.now() - start);
    if (reply.title !== `Queues (${queues})`) throw new Error(`unexpected /queue reply: ${reply.title}`);
  }
  // A full round of probes each time (check(), not a cached snapshot): Postgres, Redis, every queue.
  const healthTimes: number[] = [];
  for (let i = 0; i < WARMUP + HEALTH_ITERATIONS; i++) {
    const start = performance.now();
    const snapshot = await probes.health.check();
    if (i >= WARMUP) healthTimes.push(performance.now() - start);
    const queueChecks = snapshot.checks.filter((c) => c.kind === 'queue' && c.error === undefined).length;
    if (queueChecks !== queues) throw new Error(`expected ${queues} queue readings, got ${queueChecks}`);
  }

  // The Redis side alone: every queue's counts in one script run.
  const statsTimes: number[] = [];
  for (let i = 0; i < WARMUP + QUEUE_ITERATIONS; i++) {
    const start = performance.now();
    await inspector.stats(listed);
    if (i >= WARMUP) statsTimes.push(performance.now() - start);
  }

  // Round trips, as Redis saw them (this database only), in a pass of their own.
  const watch = await watchRedisCommands(url, { db });
  try {
    const { commands: queueCommands } = await watch.during(async () => void (await container.commands.dispatch('/queue', '', invoker)));
    const { commands: healthCommands } = await watch.during(async () => void (await probes.health.check()));
    // One whole walk by a discovery of its own (inspector.refresh() could join a background walk
    // already half done).
    const refreshTimer = performance.now();
    const { commands: refreshCommands } = await watch.during(() => fullWalk(container));
    const refreshMs = performance.now() - refreshTimer;
    return {
      queues,
      jobs,
      keys,
      queue: summarize(queueTimes),
      health: summarize(healthTimes),
      stats: summarize(statsTimes),
      queueCommands: tally(queueCommands),
      healthCommands: tally(healthCommands),
      refreshMs,
      refreshScans: refreshCommands.filter((c) => c === 'scan').length,
    };
  } finally {
    watch.close();
  }
}

/** The SCAN walk the background refresher makes every 30 s, timed from start to end. */
async function fullWalk(container: Container): Promise<void> {
  const redis = container.infra.probeRedis;
  if (!redis) throw new Error('the bench needs Redis');
  const discovery = createQueueDiscovery({ redis, prefix: PREFIX, firstWaitMs: 10 * 60_000 });
  try {
    await discovery.names();
  } finally {
    await discovery.close();
  }
}

/**
 * `1 (evalsha)`: the commands of one call. SCANs seen meanwhile are the background refresher's
 * (the container's list is refreshed every 30 s; on 5M keys a walk takes seconds), never the
 * call's own: they are shown apart.
 */
function tally(commands: string[]): string {
  const own = commands.filter((c) => c !== 'scan');
  const background = commands.length - own.length;
  const counts = new Map<string, number>();
  for (const c of own) counts.set(c, (counts.get(c) ?? 0) + 1);
  const listed = [...counts].map(([c, n]) => (n > 1 ? `${c}×${n}` : c)).join(' ');
  return `${own.length} (${listed})${background > 0 ? ` +${background} bg SCAN` : ''}`;
}

function printTable(cells: Cell[]): void {
  const header = ['queues × jobs', 'keys', '/queue p50', 'p99', '/health p50', 'p99', 'stats() p50', 'round trips /queue · /health', 'list refresh (background)'];
  const rows = cells.map((c) => [
    `${c.queues} × ${c.jobs.toLocaleString('en')}`,
    c.keys.toLocaleString('en'),
    ms(c.queue.p50),
    ms(c.queue.p99),
    ms(c.health.p50),
    ms(c.health.p99),
    ms(c.stats.p50),
    `${c.queueCommands} · ${c.healthCommands}`,
    `${ms(c.refreshMs)}, ${c.refreshScans} SCAN`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (r: string[]): string => `  ${r.map((v, i) => (i === 0 || i >= 7 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join('  ')}`;
  console.log(`\n${format(header)}`);
  for (const r of rows) console.log(format(r));
  const largest = cells.at(-1);
  if (largest) {
    const worst = Math.max(largest.queue.p99, largest.health.p99);
    console.log(`  largest measured (${largest.queues} × ${largest.jobs}): worst p99 ${ms(worst)} — ${verdict(worst, TARGET_P99_MS)}`);
  }
  console.log('  /queue: dispatch + Block Kit rendering. /health: a full probe round (check(), never a cached snapshot) incl. Postgres and Redis INFO.');
  console.log('  stats(): the one script run counting every queue. List refresh: one full SCAN walk, as the background refresher does it every 30 s.');
}
