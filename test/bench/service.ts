/**
 * Service benchmark: Vigil as a service on this machine, seen from the outside.
 *
 *  (1) The CLI end to end: `node src/bin/vigil.mjs health --json` (Vigil's own entry: the
 *      staleness check, loading dist/, connecting, probing, closing) beside `node -e 0` in the
 *      same run, and `npx vigil health --json` (npm's own start-up on top) for reference.
 *  (2) Idle RSS of the running bot (`node dist/main.js`): VmRSS from /proc after start-up and 10 s
 *      idle, in HTTP mode (fake Slack credentials, the Slack stand-in) and in shell mode (stdin
 *      a pipe held open).
 *  (3) Start-up time to the first `/readyz` 200: with the machine's Postgres and Redis, and with
 *      embedded ones (no DATABASE_URL / REDIS_URL, a fresh data dir: once cold, once warm).
 *
 * Each process is spawned from this one and timed from spawn; about two minutes in all.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify as toYaml } from 'yaml';
import { uniqueName } from '../support/env.ts';
import { DIST_MAIN, REPO_ROOT, ensureBuilt } from '../support/run-process.ts';
import { startSlackApiServer } from '../support/slack-api-server.ts';
import type { BenchEnv } from './bench-env.ts';
import { percentile, verdict } from './stats.ts';

const CLI_RUNS = 15;
const NPX_RUNS = 5;
const WARMUP_RUNS = 2;
const IDLE_MS = 10_000;
const READY_TIMEOUT_MS = 90_000;
/** Serving HTTP but /readyz still not 200 after this long: a dependency is missing; stop waiting. */
const NOT_READY_GIVE_UP_MS = 10_000;
const CLI_TARGET_S = 0.5;
const RSS_TARGET_MB = 120;

interface Timed {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawn, wait for exit, wall time from spawn to exit. */
function timed(command: string, args: string[], env: Record<string, string>): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - start, code, stdout, stderr });
    });
  });
}

async function series(runs: number, command: string, args: string[], env: Record<string, string>, check?: (r: Timed) => void): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP_RUNS + runs; i++) {
    const r = await timed(command, args, env);
    check?.(r);
    if (i >= WARMUP_RUNS) samples.push(r.ms);
  }
  return samples;
}

const s = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

/** `health --json` printed a report: exit 0/1/2 (ok/warn/fail) and JSON with a status. */
function healthPrinted(r: Timed): void {
  if (r.code === null || r.code > 2) throw new Error(`vigil health --json exited ${r.code}:\n${r.stderr.slice(-2000)}`);
  const status = (JSON.parse(r.stdout) as { status?: unknown }).status;
  if (typeof status !== 'string') throw new Error(`vigil health --json printed no status:\n${r.stdout.slice(0, 500)}`);
}

async function benchCli(env: BenchEnv, configPath: string): Promise<void> {
  console.log(`\nService: CLI end to end, ${CLI_RUNS} sequential runs each after ${WARMUP_RUNS} untimed (real Postgres and Redis)`);
  const services = { DATABASE_URL: env.dbUrl, REDIS_URL: env.redisUrl, VIGIL_CONFIG: configPath };
  const bare = await series(CLI_RUNS, process.execPath, ['-e', '0'], {});
  const health = await series(CLI_RUNS, process.execPath, ['src/bin/vigil.mjs', 'health', '--json'], services, healthPrinted);
  const version = await series(CLI_RUNS, process.execPath, ['src/bin/vigil.mjs', '--version'], {});
  const npx = await series(NPX_RUNS, 'npx', ['--no-install', 'vigil', 'health', '--json'], services, healthPrinted);
  // The staleness check on its own, in a process of its own: what every `vigil …` pays before loading dist/.
  const fresh = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', "const b = await import('./src/bin/build.mjs'); b.isFresh(); const t = performance.now(); for (let i = 0; i < 20; i++) b.isFresh(); console.log((performance.now() - t) / 20);"],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  const bareP50 = percentile(bare, 50);
  const healthP50 = percentile(health, 50);
  console.log(`  node -e 0                           p50 ${s(bareP50)}`);
  console.log(`  node src/bin/vigil.mjs health --json p50 ${s(healthP50)}  p90 ${s(percentile(health, 90))}  max ${s(Math.max(...health))}`);
  console.log(`  node src/bin/vigil.mjs --version    p50 ${s(percentile(version, 50))}`);
  console.log(`  npx vigil health --json (reference) p50 ${s(percentile(npx, 50))} (npm's start-up on top)`);
  console.log(`  dist/ staleness check (isFresh)     ${Number(fresh.stdout.trim()).toFixed(2)} ms per call`);
  console.log(`  ratio health / node -e 0: ${(healthP50 / bareP50).toFixed(1)}×; p50 ${verdict(healthP50 / 1000, CLI_TARGET_S, 's')}`);
}

/** VmRSS (now) or VmHWM (the kernel's peak) of a process in MB, from /proc. */
function statusMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

interface Bot {
  pid: number;
  /** Spawn to the first /readyz 200, ms. */
  readyMs: number;
  output(): string;
  stop(): Promise<void>;
}

/** `node dist/main.js` in `cwd` with only `env`; resolves once /readyz answers 200. */
async function startBot(cwd: string, env: Record<string, string>): Promise<Bot> {
  const start = performance.now();
  const child = spawn(process.execPath, [DIST_MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not start node dist/main.js');
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  let exited: string | null = null;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = signal ?? String(code);
      resolve();
    }),
  );
  const stop = async (): Promise<void> => {
    if (exited !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exit;
    clearTimeout(timer);
  };
  const deadline = start + READY_TIMEOUT_MS;
  let servingSince: number | null = null;
  let lastAnswer = '';
  for (;;) {
    // The start-up line, plain or inside a JSON log line (stdout not a terminal).
    const port = /HTTP: [^\n]*? on port (\d+)/.exec(out)?.[1];
    if (port) {
      servingSince ??= performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
      if (res?.status === 200) return { pid: child.pid, readyMs: performance.now() - start, output: () => out, stop };
      lastAnswer = res ? `${res.status} ${await res.text()}` : 'no answer';
    }
    const gaveUp = servingSince !== null && performance.now() - servingSince > NOT_READY_GIVE_UP_MS;
    if (exited !== null || performance.now() > deadline || gaveUp) {
      await stop();
      const why = exited !== null ? `exited ${exited}` : gaveUp ? `/readyz still ${lastAnswer.slice(0, 300)}` : 'timed out';
      throw new Error(`the bot was not ready (${why}):\n${out.slice(-3000)}`);
    }
    await sleep(10);
  }
}

async function idleRss(label: string, cwd: string, env: Record<string, string>): Promise<{ readyMs: number; rss: number }> {
  const bot = await startBot(cwd, env);
  try {
    // Sampled through the idle time: whether V8 has shrunk its heap by 10 s varies run to run.
    let idleMax = 0;
    for (let waited = 0; waited < IDLE_MS; waited += 250) {
      await sleep(250);
      idleMax = Math.max(idleMax, statusMb(bot.pid));
    }
    const rss = statusMb(bot.pid);
    console.log(`  ${label.padEnd(36)} ready in ${s(bot.readyMs)}; idle RSS after ${IDLE_MS / 1000} s ${rss.toFixed(1)} MB, ${verdict(rss, RSS_TARGET_MB, 'MB')}`);
    console.log(`  ${''.padEnd(36)} (highest while idle ${idleMax.toFixed(1)} MB, peak since start ${statusMb(bot.pid, 'VmHWM').toFixed(1)} MB)`);
    return { readyMs: bot.readyMs, rss };
  } finally {
    await bot.stop();
  }
}

async function benchBot(env: BenchEnv, workDir: string): Promise<void> {
  console.log(`\nService: the bot (node dist/main.js): idle RSS and start-up to /readyz 200, machine's Postgres and Redis`);
  const queuePrefix = uniqueName('svc');
  const configPath = join(workDir, 'service-bot.yaml');
  await writeFile(configPath, toYaml({ bullmq: { prefix: env.prefix }, state: { queuePrefix } }));
  const services = { DATABASE_URL: env.dbUrl, REDIS_URL: env.redisUrl, VIGIL_CONFIG: configPath };
  const slack = await startSlackApiServer();
  try {
    const token = ['xoxb', 'svc', randomBytes(12).toString('hex')].join('-');
    await idleRss('HTTP mode (Slack stand-in)', workDir, {
      ...services,
      SLACK_BOT_TOKEN: token,
      SLACK_SIGNING_SECRET: `svc-signing-${randomBytes(12).toString('hex')}`,
      SLACK_API_URL: `${slack.url}/api/`,
    });
  } finally {
    await slack.close();
  }
  await idleRss('shell mode (stdin held open)', workDir, services);
}

async function benchEmbedded(): Promise<void> {
  console.log('\nService: start-up to /readyz 200 with embedded Postgres and Redis (no DATABASE_URL / REDIS_URL, fresh cwd)');
  const cwd = await mkdtemp(join(tmpdir(), 'vigil-svc-embedded-'));
  // The embedded Postgres runs as its own OS user when Vigil runs as root: it must reach the data dir.
  await chmod(cwd, 0o755);
  try {
    for (const run of ['cold (initdb, new data dir)', 'warm (same data dir)']) {
      const bot = await startBot(cwd, {}).catch((err: unknown) => err as Error);
      if (bot instanceof Error) {
        console.log(`  ${run}: did not start — ${bot.message.split('\n').slice(0, 12).join('\n    ')}`);
        return;
      }
      const rss = statusMb(bot.pid);
      await bot.stop();
      console.log(`  ${run.padEnd(36)} ready in ${s(bot.readyMs)} (bot RSS at ready ${rss.toFixed(1)} MB)`);
    }
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

export async function benchService(env: BenchEnv): Promise<void> {
  ensureBuilt();
  const workDir = await mkdtemp(join(tmpdir(), 'vigil-svc-'));
  try {
    const configPath = join(workDir, 'service-cli.yaml');
    await writeFile(configPath, toYaml({ bullmq: { prefix: env.prefix } }));
    await benchCli(env, configPath);
    await benchBot(env, workDir);
    await benchEmbedded();
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
