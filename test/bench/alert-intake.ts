/**
 * Benchmark 4: alert intake. `POST /alerts/alertmanager` on the real bot (its own process,
 * `src/main.ts`, real Postgres and Redis, the Slack stand-in) — bearer token checked, body
 * validated, every notification INSERTed into Postgres before the 2xx — beside a bare `node:http`
 * server (also a process of its own) that only reads and `JSON.parse`s the very same bodies.
 * Closed loop, the same number in flight for both, loopback only, time-bounded: after a warm-up,
 * short slices alternate between the two (ABBA…) so drift on the machine hits both alike. The bot
 * is paused (SIGSTOP) while the baseline is measured: its background work (applying what was
 * stored) is counted in its own slices, not in the baseline's. (A pause of 2 s can make the bot
 * log a Redis timeout or a missed node-cron tick when it resumes: that is the pause, not load.)
 * The load comes from this process through undici (lighter than node:http's client, so the
 * baseline is limited by the bare server rather than by the load generator).
 *
 * The bodies are Alertmanager 0.25's own (test/fixtures/alertmanager/firing-two.json) with the
 * group key, alert names and fingerprints varied over 1,000 groups of three severities, so the
 * bot's processor has real groups to apply behind the intake (posts, then storm mode).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Pool } from 'undici';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { startSlackApiServer } from '../support/slack-api-server.ts';
import { line, percentile, type Summary } from './stats.ts';
import { machineCpuMs, processCpuMs, startVigilProcess, type VigilProcess } from '../support/vigil-process.ts';

const CONCURRENCY = 48;
const WARMUP_MS = 2_000;
const SLICE_MS = 2_000;
// Slices per target: 5 × 2 s = 10 s measured each.
const SLICES = 5;
const GROUPS = 1_000;
const SEVERITIES = ['critical', 'warning', 'info'] as const;
const TARGET_SHARE = 0.5;
const FIXTURE = new URL('../fixtures/alertmanager/firing-two.json', import.meta.url);

interface Target {
  name: string;
  port: number;
  /** Keep-alive connections, as many as requests in flight. */
  pool: Pool;
  /** The server's process, for its CPU time. */
  pid: number;
  seq: number;
  latencies: number[];
  completed: number;
  activeMs: number;
  /** CPU time over the measured slices (ms): the server process, this load generator, the whole machine. */
  cpu: { server: number; loader: number; machineBusy: number; machineTotal: number };
  errors: Map<string, number>;
}

/** One body per group, as Alertmanager would send it for that group; the same list for both targets. */
function buildBodies(externalURL: string): Buffer[] {
  const template = JSON.parse(readFileSync(FIXTURE, 'utf8')) as {
    alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string>; fingerprint: string }>;
    [key: string]: unknown;
  };
  return Array.from({ length: GROUPS }, (_, g) => {
    const alertname = `IntakeBench${String(g).padStart(4, '0')}`;
    const severity = SEVERITIES[g % SEVERITIES.length] as string;
    const alerts = template.alerts.map((a, i) => ({
      ...a,
      labels: { ...a.labels, alertname, severity, instance: `api-${g}-${i}:8080` },
      annotations: { ...a.annotations, summary: `5xx rate above 5% on api-${g}-${i}:8080` },
      fingerprint: (g * 16 + i).toString(16).padStart(16, '0'),
    }));
    const body = {
      ...template,
      alerts,
      groupLabels: { alertname },
      commonLabels: { alertname, severity, team: 'payments' },
      externalURL,
      groupKey: `{}:{alertname="${alertname}"}`,
    };
    return Buffer.from(JSON.stringify(body));
  });
}

async function post(target: Target, body: Buffer, token: string): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  const res = await target.pool.request({
    path: '/alerts/alertmanager',
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'user-agent': 'Alertmanager/0.25.0' },
    body,
  });
  await res.body.dump();
  return { status: res.statusCode, ms: performance.now() - start };
}

/** `CONCURRENCY` closed loops for `ms`; in-flight requests finish and count. */
async function slice(target: Target, bodies: Buffer[], token: string, ms: number, record: boolean): Promise<void> {
  const start = performance.now();
  const end = start + ms;
  const before = { server: processCpuMs(target.pid), loader: process.cpuUsage(), machine: machineCpuMs() };
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const body = bodies[target.seq++ % bodies.length] as Buffer;
      try {
        const r = await post(target, body, token);
        if (r.status !== 200) {
          const key = `HTTP ${r.status}`;
          target.errors.set(key, (target.errors.get(key) ?? 0) + 1);
        } else if (record) {
          target.latencies.push(r.ms);
          target.completed += 1;
        }
      } catch (err) {
        const key = err instanceof Error ? err.message : String(err);
        target.errors.set(key, (target.errors.get(key) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  if (!record) return;
  target.activeMs += performance.now() - start;
  const loader = process.cpuUsage(before.loader);
  const machine = machineCpuMs();
  target.cpu.server += processCpuMs(target.pid) - before.server;
  target.cpu.loader += (loader.user + loader.system) / 1000;
  target.cpu.machineBusy += machine.busy - before.machine.busy;
  target.cpu.machineTotal += machine.total - before.machine.total;
}

// The baseline: read the body, parse it, answer 200. Nothing else.
const BARE_SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body;
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"body is not JSON"}');
      return;
    }
    const out = JSON.stringify({ status: 'parsed', alerts: Array.isArray(body.alerts) ? body.alerts.length : 0 });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(out) }).end(out);
  });
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => process.stdout.write('port ' + server.address().port + '\\n'));
process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
`;

async function startBareServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', BARE_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.on('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bare server did not start within 10 s')), 10_000);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /port (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the bare server exited (code ${code})`));
    });
  });
  return { child, port };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

const rate = (t: Target): number => t.completed / (t.activeMs / 1000);

export async function benchAlertIntake(): Promise<void> {
  console.log(
    `\n4. Alert intake: POST /alerts/alertmanager (stored in Postgres before the 2xx) vs a bare node:http server that only parses the JSON; ` +
      `${CONCURRENCY} in flight, ${WARMUP_MS / 1000} s warm-up, then ${SLICES} × ${SLICE_MS / 1000} s per target, alternating`,
  );
  const workDir = await mkdtemp(join(tmpdir(), 'vigil-bench-intake-'));
  const database = await createTestDatabase('bench_intake');
  const prefix = uniqueName('bench_intake');
  const token = `intake-${randomBytes(16).toString('hex')}`;
  const slack = await startSlackApiServer({ perChannelPerSecond: 1, burst: 3 });
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  let vigil: VigilProcess | null = null;
  let bare: { child: ChildProcess; port: number } | null = null;
  const targets: Target[] = [];
  try {
    vigil = await startVigilProcess({
      workDir,
      config: {
        state: { queuePrefix: prefix },
        bullmq: { prefix: `${prefix}_inspected` },
        alerts: { channels: { critical: 'C0INTAKECRIT', warning: 'C0INTAKEWARN', info: 'C0INTAKEINFO', default: 'C0INTAKEOTHER' } },
      },
      env: {
        SLACK_BOT_TOKEN: `xoxb-bench-${randomBytes(8).toString('hex')}`,
        SLACK_SIGNING_SECRET: `bench-signing-secret-${randomBytes(8).toString('hex')}`,
        SLACK_API_URL: `${slack.url}/api/`,
        DATABASE_URL: database.url,
        REDIS_URL: TEST_REDIS_URL,
        ALERT_WEBHOOK_TOKEN: token,
      },
    });
    bare = await startBareServer();
    const bodies = buildBodies('http://127.0.0.1:9093');
    const target = (name: string, port: number, pid: number): Target => ({
      name,
      port,
      pid,
      pool: new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY, pipelining: 1, keepAliveTimeout: 60_000 }),
      seq: 0,
      latencies: [],
      completed: 0,
      activeMs: 0,
      cpu: { server: 0, loader: 0, machineBusy: 0, machineTotal: 0 },
      errors: new Map(),
    });
    const v = target('Vigil POST /alerts/alertmanager', vigil.port, vigil.pid);
    const b = target('bare node:http (JSON.parse only)', bare.port, bare.child.pid ?? 0);
    targets.push(v, b);

    // While the bare server is measured the bot is paused (SIGSTOP), so its processor working
    // through what the intake stored does not slow the baseline; that work lands in Vigil's slices.
    const botPid = vigil.pid;
    const measure = async (t: Target, ms: number, record: boolean): Promise<void> => {
      if (t === b) process.kill(botPid, 'SIGSTOP');
      try {
        await slice(t, bodies, token, ms, record);
      } finally {
        if (t === b) process.kill(botPid, 'SIGCONT');
      }
    };
    await measure(v, WARMUP_MS, false);
    await measure(b, WARMUP_MS, false);
    for (let i = 0; i < SLICES; i++) {
      const order = i % 2 === 0 ? [v, b] : [b, v];
      for (const t of order) await measure(t, SLICE_MS, true);
    }

    // What the 2xx promised: every accepted request is a row; how far the processor got meanwhile.
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    const { rows } = await db.query<{ stored: string; applied: string }>('SELECT count(*) AS stored, count(processed_at) AS applied FROM vigil.alert_notifications');
    await db.end();
    const stored = Number(rows[0]?.stored ?? 0);
    const applied = Number(rows[0]?.applied ?? 0);

    const vs = summary(v.latencies);
    const bs = summary(b.latencies);
    const rps = (t: Target) => `${rate(t).toFixed(0).padStart(6)} req/s`;
    console.log(`${line(v.name, vs)}  ${rps(v)}`);
    console.log(`${line(b.name, bs)}  ${rps(b)}`);
    const share = rate(v) / rate(b);
    console.log(
      `  Vigil/bare: throughput ${(share * 100).toFixed(0)}%, p50 ${(vs.p50 / bs.p50).toFixed(1)}×, p99 ${(vs.p99 / bs.p99).toFixed(1)}× — ` +
        `target ≥ ${TARGET_SHARE * 100}% of the bare server's requests/s: ${share >= TARGET_SHARE ? 'MET' : 'NOT MET'}`,
    );
    console.log(
      `  Postgres: ${stored} notifications stored for ${v.seq - sumErrors(v)} requests answered 2xx (warm-up included); ` +
        `the processor had applied ${applied} by the end (${stored - applied} still queued); Vigil peak RSS ${vigil.peakRssMb().toFixed(0)} MB`,
    );
    for (const t of targets) {
      // Shares of the whole machine (all cores = 100%) while this target was measured.
      const pct = (x: number) => `${((100 * x) / Math.max(1, t.cpu.machineTotal)).toFixed(0)}%`;
      const rest = t.cpu.machineBusy - t.cpu.server - t.cpu.loader;
      console.log(
        `  CPU while measuring ${t === v ? 'Vigil' : 'bare'}: machine ${pct(t.cpu.machineBusy)} busy — server process ${pct(t.cpu.server)}, ` +
          `load generator ${pct(t.cpu.loader)}, everything else (Postgres, Redis, …) ${pct(rest)}; server CPU per request ${(t.cpu.server / Math.max(1, t.completed)).toFixed(3)} ms`,
      );
    }
    for (const t of targets) if (t.errors.size > 0) console.log(`  ${t.name}: failures ${JSON.stringify(Object.fromEntries(t.errors))}`);
    if (vigil.warningCounts.size > 0) console.log(`  Vigil logged: ${JSON.stringify(Object.fromEntries(vigil.warningCounts))}`);
  } finally {
    for (const t of targets) await t.pool.destroy();
    if (bare) await stopChild(bare.child);
    const how = await vigil?.stop();
    if (how && how !== 'exited with code 0') console.log(`  note: Vigil ${how} on SIGTERM`);
    await slack.close();
    for (const p of [prefix, `${prefix}_inspected`]) await deleteKeysUnder(redis, p);
    redis.disconnect();
    await database.drop();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** stats.ts `summarize` without its spread (`Math.max(...xs)` overflows the stack past ~100k samples). */
function summary(samples: number[]): Summary {
  let max = -Infinity;
  let total = 0;
  for (const x of samples) {
    if (x > max) max = x;
    total += x;
  }
  return { n: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), max, mean: total / Math.max(1, samples.length) };
}

function sumErrors(t: Target): number {
  let n = 0;
  for (const count of t.errors.values()) n += count;
  return n;
}
