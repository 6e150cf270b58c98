/**
 * Benchmark: `/db` (overview, locks, tables, indexes) on a database with 10,000 tables, many idle
 * sessions and a lock chain, and `/redis` (overview, bigkeys) on a Redis holding 1M keys, each
 * through the real dispatcher and rendered to Block Kit, against Slack's 3 s. The baseline, in the
 * same run: a bare `SELECT 1` on the same pool and a PING on the same Redis.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stringify as toYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { createContainer } from '../../src/container.ts';
import { createLogger } from '../../src/log.ts';
import { startOwnRedis } from '../support/own-redis.ts';
import { TEST_DATABASE_URL } from '../support/env.ts';
import { adminQuery, createTestDatabase } from '../support/pg.ts';
import { line, summarize, verdict } from './stats.ts';
import type { Dispatcher } from '../../src/core/dispatch.ts';
import { renderBlocks } from '../../src/slack/blocks.ts';

const TABLES = 10_000;
const ITERATIONS = 30;
const TARGET_MS = 3000;
const KEYS = 1_000_000;

async function time(dispatcher: Dispatcher, slash: string, text: string, iterations = ITERATIONS): Promise<{ samples: number[]; title: string }> {
  const samples: number[] = [];
  let title = '';
  for (let i = 0; i < iterations + 2; i++) {
    const start = performance.now();
    const { reply } = await dispatcher.dispatch(slash, text, { surface: 'cli', userId: 'bench' });
    JSON.stringify(renderBlocks(reply));
    if (i >= 2) samples.push(performance.now() - start);
    title = reply.title;
  }
  return { samples, title };
}

export async function benchDiagnosis(): Promise<void> {
  const maxConnections = Number((await queryOnce('SHOW max_connections')).max_connections);
  // 200 sessions where the server allows them; leave room for Vigil, the tests and superusers.
  const sessions = Math.min(200, maxConnections - 25);
  console.log(`\n10. /db on ${TABLES.toLocaleString('en-US')} tables and ${sessions} sessions (a lock chain among them), /redis on ${KEYS.toLocaleString('en-US')} keys; ${ITERATIONS} sequential runs each`);
  const db = await createTestDatabase('bench_diag');
  const workDir = await mkdtemp(join(tmpdir(), 'vigil-bench-diag-'));
  const redis = await startOwnRedis(['--enable-debug-command', 'local']);
  const clients: pg.Client[] = [];
  try {
    const created = performance.now();
    // In batches: one transaction creating them all runs out of lock slots (max_locks_per_transaction).
    for (let from = 1; from <= TABLES; from += 500) {
      await adminQuery(`DO $$ BEGIN FOR i IN ${from}..${Math.min(TABLES, from + 499)} LOOP EXECUTE format('CREATE TABLE t_%s (id int PRIMARY KEY, v text)', i); END LOOP; END $$;`, db.name);
    }
    await adminQuery("CREATE TABLE hot (id int PRIMARY KEY, v text); INSERT INTO hot VALUES (1, 'x');", db.name);
    console.log(`  setup: ${TABLES} tables in ${((performance.now() - created) / 1000).toFixed(1)} s`);
    for (let i = 0; i < sessions; i++) {
      const c = new pg.Client({ connectionString: db.url, application_name: `bench-${i}` });
      c.on('error', () => undefined);
      await c.connect();
      clients.push(c);
    }
    // One holder and ten sessions waiting on it: the blocking tree /db locks draws.
    const [holder, ...rest] = clients;
    await holder?.query('BEGIN');
    await holder?.query("UPDATE hot SET v = 'held' WHERE id = 1");
    for (const w of rest.slice(0, 10)) void w.query("UPDATE hot SET v = 'wait' WHERE id = 1").catch(() => undefined);
    const populated = performance.now();
    await redis.admin.call('DEBUG', 'POPULATE', String(KEYS), 'bench', '64');
    console.log(`  setup: ${KEYS.toLocaleString('en-US')} Redis keys in ${((performance.now() - populated) / 1000).toFixed(1)} s`);

    const configPath = join(workDir, 'bench.yaml');
    await writeFile(configPath, toYaml({ bullmq: { prefix: 'bench-diag' } }));
    const config = loadConfig({ DATABASE_URL: db.url, REDIS_URL: redis.url, VIGIL_CONFIG: configPath, PATH: process.env.PATH }, workDir);
    const container = await createContainer(config, { log: createLogger('error'), announce: () => undefined, embedded: false, role: 'cli' });
    try {
      const probeDb = container.infra.probeDb;
      const baseline: number[] = [];
      for (let i = 0; i < ITERATIONS; i++) {
        const start = performance.now();
        await probeDb?.query('SELECT 1');
        baseline.push(performance.now() - start);
      }
      console.log(line('baseline: SELECT 1 (same pool)', summarize(baseline)));
      for (const view of ['', 'locks', 'tables', 'indexes', 'replication']) {
        const { samples, title } = await time(container.commands, '/db', view);
        const s = summarize(samples);
        console.log(line(`/db ${view || 'overview'}`, s));
        console.log(`    "${title}"; p99 ${verdict(s.p99, TARGET_MS)}`);
      }
      const ping: number[] = [];
      for (let i = 0; i < ITERATIONS; i++) {
        const start = performance.now();
        await container.infra.probeRedis?.ping();
        ping.push(performance.now() - start);
      }
      console.log(line('baseline: PING (same Redis)', summarize(ping)));
      for (const view of ['', 'bigkeys']) {
        const { samples, title } = await time(container.commands, '/redis', view, view === 'bigkeys' ? 10 : ITERATIONS);
        const s = summarize(samples);
        console.log(line(`/redis ${view || 'overview'}`, s));
        console.log(`    "${title}"; p99 ${verdict(s.p99, TARGET_MS)}`);
      }
    } finally {
      await container.close();
    }
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await redis.stop();
    await db.drop();
    await rm(workDir, { recursive: true, force: true });
  }
}

async function queryOnce(sql: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(sql)).rows[0] as Record<string, string>;
  } finally {
    await client.end();
  }
}
