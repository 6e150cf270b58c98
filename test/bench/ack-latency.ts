/**
 * Benchmark 1: how long Slack waits for an ack, Vigil against a bare Bolt app that only acks.
 *
 * Each server runs in a process of its own (test/bench/ack-server.mjs, plain `node`; Vigil from the
 * compiled dist/ as `npm start` runs it), so deferred work on one side (GC, audit writes, snapshot
 * refreshes) cannot land in the other's round and each one's CPU is its own. The load comes from
 * this process: bursts of 200 concurrent signed slash commands, the very same requests to both,
 * in interleaved rounds (Bolt then Vigil, Vigil then Bolt, …) after a warm-up, in 3 repeats.
 *
 * Printed: p50/p99 per command and server, the Vigil/Bolt ratios (pooled and per repeat), CPU per
 * request of each process (process.cpuUsage deltas over IPC, deferred work included) and, with
 * BENCH_PROFILE=1, the top self-time functions of a CPU profile of the measured rounds (kept as
 * ack-vigil.cpuprofile and ack-bolt.cpuprofile in BENCH_PROFILE_DIR when set, for Chrome DevTools).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import type { BenchEnv } from './bench-env.ts';
import { summarizeProfile, type ProfileSummary } from './ack-profile.ts';
import { ensureBuilt } from '../support/run-process.ts';
import { startSlackApiServer } from '../support/slack-api-server.ts';
import { signedSlashCommand, type SignedRequest, type SlashCommandFields } from '../support/slack-requests.ts';
import { line, summarize, verdict } from './stats.ts';

const CONCURRENCY = 200;
const WARMUP_ROUNDS = 3;
const REPEATS = 3;
/** Per command and repeat: this many Bolt/Vigil round pairs, who goes first alternating. */
const PAIRS_PER_REPEAT = 12;
const TARGET_RATIO = 1.2;
const START_TIMEOUT_MS = 60_000;

type Role = 'bolt' | 'vigil';
const ROLES: readonly Role[] = ['bolt', 'vigil'];
const ROLE_LABEL: Record<Role, string> = { bolt: 'bare Bolt', vigil: 'Vigil' };

interface BenchCommand {
  label: string;
  fields: Pick<SlashCommandFields, 'command' | 'text'>;
}

const COMMANDS: readonly BenchCommand[] = [
  { label: '/health', fields: { command: '/health' } },
  { label: '/vigil help', fields: { command: '/vigil', text: 'help' } },
  // Its reply names what was typed, so it is built (and rendered) for every request: the uncached path.
  { label: '/vigil <unknown>', fields: { command: '/vigil', text: 'no-such-command' } },
];

interface ServerProcess {
  role: Role;
  child: ChildProcess;
  port: number;
  agent: Agent;
}

/** What one (command, server) pair collected. */
interface Tally {
  latencies: number[][]; // per repeat
  errors: Map<string, number>;
  cpuUs: number;
  requests: number;
}

function post(server: ServerProcess, req: SignedRequest): Promise<{ status: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const r = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: '/slack/events',
        method: 'POST',
        agent: server.agent,
        headers: { ...req.headers, 'content-length': Buffer.byteLength(req.body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - start }));
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

/** One burst of `requests`, all sent at once; latencies go to `into` (none: a warm-up round). */
async function round(server: ServerProcess, requests: SignedRequest[], tally: Tally, into: number[] | null): Promise<void> {
  const results = await Promise.allSettled(requests.map((req) => post(server, req)));
  for (const r of results) {
    const failure = r.status === 'rejected' ? (r.reason instanceof Error ? r.reason.message : String(r.reason)) : r.value.status !== 200 ? `HTTP ${r.value.status}` : null;
    if (failure) tally.errors.set(failure, (tally.errors.get(failure) ?? 0) + 1);
    else if (into && r.status === 'fulfilled') into.push(r.value.ms);
  }
}

/** The next IPC message of `type` from the child (they come one at a time, in order). */
function reply<T>(child: ChildProcess, type: string, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string }) => {
      if (message?.type !== type) return;
      cleanup();
      resolve(message as T);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`ack server exited (code ${code}) while waiting for ${type}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`ack server did not answer ${type} within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage).off('exit', onExit);
    };
    child.on('message', onMessage).once('exit', onExit);
  });
}

async function startServer(role: Role, input: Record<string, string>): Promise<ServerProcess> {
  // execArgv empty: plain node, not this process's TypeScript loader.
  const child = fork(fileURLToPath(new URL('./ack-server.mjs', import.meta.url)), [role, JSON.stringify(input)], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await reply<{ port: number }>(child, 'ready', START_TIMEOUT_MS);
  return { role, child, port: ready.port, agent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY }) };
}

async function stopServer(server: ServerProcess): Promise<void> {
  server.agent.destroy();
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send({ type: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** CPU (user + system) the child has used so far, µs, as it reports it. */
async function cpuUs(server: ServerProcess): Promise<number> {
  const answer = reply<{ usage: NodeJS.CpuUsage }>(server.child, 'cpu');
  server.child.send({ type: 'cpu' });
  const { usage } = await answer;
  return usage.user + usage.system;
}

export async function benchAckLatency(env: BenchEnv, workDir: string): Promise<void> {
  const profiling = process.env.BENCH_PROFILE === '1' || Boolean(process.env.BENCH_PROFILE_DIR) || process.argv.includes('--profile');
  console.log(
    `\n1. Ack latency: ${CONCURRENCY} concurrent signed slash commands; Vigil (node dist/) and a bare Bolt app, each in its own process;` +
      ` per command ${WARMUP_ROUNDS} warm-up rounds, then ${REPEATS} repeats × ${PAIRS_PER_REPEAT} interleaved round pairs${profiling ? ' (CPU profiles on: ratios are not the headline figures)' : ''}`,
  );
  const buildStart = performance.now();
  ensureBuilt();
  const buildMs = performance.now() - buildStart;
  if (buildMs > 1000) console.log(`  (built dist/ first: ${(buildMs / 1000).toFixed(1)} s)`);

  const configPath = join(workDir, 'ack-bench.yaml');
  await writeFile(configPath, toYaml({ bullmq: { prefix: env.prefix }, state: { queuePrefix: `${env.prefix}_own` } }));
  // The Slack stand-in lives here: it is only asked for deferred answers, which a quick ack never has.
  const slack = await startSlackApiServer();
  const input = { dbUrl: env.dbUrl, redisUrl: env.redisUrl, signingSecret: env.signingSecret, botToken: env.botToken, configPath, cwd: workDir, slackApiUrl: slack.url };
  const servers: Partial<Record<Role, ServerProcess>> = {};
  try {
    for (const role of ROLES) servers[role] = await startServer(role, input);
    const server = (role: Role) => servers[role] as ServerProcess;
    const tallies = COMMANDS.map(() => Object.fromEntries(ROLES.map((r) => [r, newTally()])) as Record<Role, Tally>);

    let seq = 0;
    const burst = (cmd: BenchCommand): SignedRequest[] =>
      Array.from({ length: CONCURRENCY }, () => {
        seq += 1;
        return signedSlashCommand(
          { ...cmd.fields, user_id: `UBENCH${seq}`, response_url: `${slack.url}/response/bench-${seq}` },
          { signingSecret: env.signingSecret },
        );
      });

    for (let i = 0; i < WARMUP_ROUNDS; i++) {
      for (const [c, cmd] of COMMANDS.entries()) {
        const requests = burst(cmd);
        for (const role of ROLES) await round(server(role), requests, tallies[c]![role], null);
      }
    }

    // What each process burns doing nothing (workers, schedules, timers), so CPU per request can be read fairly.
    await sleep(300);
    const idleStart = await Promise.all(ROLES.map((r) => cpuUs(server(r))));
    const idleWallStart = performance.now();
    await sleep(1000);
    const idleEnd = await Promise.all(ROLES.map((r) => cpuUs(server(r))));
    const idleSeconds = (performance.now() - idleWallStart) / 1000;
    const idleMsPerS = ROLES.map((_, i) => (idleEnd[i]! - idleStart[i]!) / 1000 / idleSeconds);

    if (profiling) {
      for (const role of ROLES) {
        const started = reply(server(role).child, 'profile-started');
        server(role).child.send({ type: 'profile-start' });
        await started;
      }
    }

    // A server's CPU from the start of one of its rounds to the start of its next round is that
    // round's, deferred work included (the other server's round runs in between).
    const last: Record<Role, { us: number; command: number } | null> = { bolt: null, vigil: null };
    const sampleCpu = async (role: Role, command: number | null) => {
      const now = await cpuUs(server(role));
      const prev = last[role];
      if (prev) tallies[prev.command]![role].cpuUs += now - prev.us;
      last[role] = command === null ? null : { us: now, command };
    };

    const measureStart = performance.now();
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      for (const [c, cmd] of COMMANDS.entries()) {
        for (let pair = 0; pair < PAIRS_PER_REPEAT; pair++) {
          const requests = burst(cmd);
          const order: Role[] = (repeat * PAIRS_PER_REPEAT + pair) % 2 === 0 ? ['bolt', 'vigil'] : ['vigil', 'bolt'];
          for (const role of order) {
            const tally = tallies[c]![role];
            await sampleCpu(role, c);
            await round(server(role), requests, tally, (tally.latencies[repeat] ??= []));
            tally.requests += requests.length;
          }
        }
      }
    }
    await sleep(200); // deferred work of the last rounds
    for (const role of ROLES) await sampleCpu(role, null);
    const measureSeconds = (performance.now() - measureStart) / 1000;

    const profiles: Partial<Record<Role, ProfileSummary>> = {};
    if (profiling) {
      for (const role of ROLES) {
        const path = join(process.env.BENCH_PROFILE_DIR ?? workDir, `ack-${role}.cpuprofile`);
        const stopped = reply(server(role).child, 'profile-stopped');
        server(role).child.send({ type: 'profile-stop', path });
        await stopped;
        profiles[role] = await summarizeProfile(path);
      }
    }

    report(tallies, idleMsPerS, measureSeconds, profiles);
  } finally {
    for (const role of ROLES) {
      const s = servers[role];
      if (s) await stopServer(s);
    }
    await slack.close();
  }
}

function newTally(): Tally {
  return { latencies: [], errors: new Map(), cpuUs: 0, requests: 0 };
}

const ratio = (v: number, b: number) => `${(v / b).toFixed(2)}×`;

function report(tallies: Record<Role, Tally>[], idleMsPerS: number[], measureSeconds: number, profiles: Partial<Record<Role, ProfileSummary>>): void {
  for (const [c, cmd] of COMMANDS.entries()) {
    const t = tallies[c]!;
    console.log(`  ${cmd.label}`);
    const pooled = Object.fromEntries(ROLES.map((r) => [r, summarize(t[r].latencies.flat())])) as Record<Role, ReturnType<typeof summarize>>;
    for (const role of ROLES) {
      const cpu = t[role].requests > 0 ? Math.round(t[role].cpuUs / t[role].requests) : Number.NaN;
      console.log(`${line(`  ${ROLE_LABEL[role]}`, pooled[role])}  CPU ${String(cpu).padStart(4)} µs/request`);
    }
    const perRepeat = t.vigil.latencies.map((v, i) => {
      const b = summarize(t.bolt.latencies[i] ?? []);
      const s = summarize(v);
      return { p50: s.p50 / b.p50, p99: s.p99 / b.p99 };
    });
    const p50 = pooled.vigil.p50 / pooled.bolt.p50;
    const p99 = pooled.vigil.p99 / pooled.bolt.p99;
    console.log(
      `    Vigil/Bolt: p50 ${ratio(pooled.vigil.p50, pooled.bolt.p50)}, p99 ${ratio(pooled.vigil.p99, pooled.bolt.p99)}` +
        ` (repeats: p50 ${perRepeat.map((r) => r.p50.toFixed(2)).join(' / ')}; p99 ${perRepeat.map((r) => r.p99.toFixed(2)).join(' / ')})` +
        ` — ${verdict(Math.max(p50, p99), TARGET_RATIO, '×')}`,
    );
    for (const role of ROLES) {
      if (t[role].errors.size > 0) console.log(`    ${ROLE_LABEL[role]} failures: ${JSON.stringify(Object.fromEntries(t[role].errors))}`);
    }
  }
  const totals = ROLES.map((role) => {
    const us = tallies.reduce((sum, t) => sum + t[role].cpuUs, 0);
    const n = tallies.reduce((sum, t) => sum + t[role].requests, 0);
    return `${ROLE_LABEL[role]} ${Math.round(us / Math.max(1, n))} µs`;
  });
  console.log(`  CPU per request over all commands (deferred work included): ${totals.join(', ')}; measured ${measureSeconds.toFixed(1)} s`);
  console.log(`  idle CPU (1 s, nothing sent): ${ROLES.map((r, i) => `${ROLE_LABEL[r]} ${idleMsPerS[i]!.toFixed(1)} ms/s`).join(', ')}`);
  for (const role of ['vigil', 'bolt'] as const) {
    const p = profiles[role];
    if (!p) continue;
    const n = role === 'vigil' ? 15 : 8;
    console.log(`  CPU profile, ${ROLE_LABEL[role]} (measured rounds): busy ${p.busyMs.toFixed(0)} ms, idle ${p.idleMs.toFixed(0)} ms; top ${n} by self time:`);
    for (const f of p.top.slice(0, n)) console.log(`    ${f.ms.toFixed(1).padStart(8)} ms ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}  ${f.where}`);
    console.log(`    by package: ${p.byPackage.slice(0, 8).map((e) => `${e.name} ${(e.share * 100).toFixed(1)}%`).join(', ')}`);
  }
}
