/**
 * Benchmark 1: how long Slack waits for an ack. 200 concurrent signed `/health` slash commands
 * against the real Vigil, and the very same requests against a bare Bolt app that only acks, in
 * alternating rounds after a warm-up. The servers run in a child process; the load comes from here.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import type { BenchEnv } from './bench-env.ts';
import type { AckServersInput, AckServersReady } from './ack-servers.ts';
import { signedSlashCommand, type SignedRequest, type SlashCommandFields } from '../support/slack-requests.ts';
import { line, summarize, verdict } from './stats.ts';

const CONCURRENCY = 200;
const WARMUP_ROUNDS = 3;
const MEASURED_ROUNDS = 12;
const TARGET_RATIO = 1.2;

interface Target {
  name: string;
  port: number;
  agent: Agent;
  latencies: number[];
  errors: Map<string, number>;
}

function post(target: Target, req: SignedRequest): Promise<{ status: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const r = request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: '/slack/events',
        method: 'POST',
        agent: target.agent,
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

/** One burst of `requests`, all sent at once; records latencies unless warming up. */
async function round(target: Target, requests: SignedRequest[], record: boolean): Promise<void> {
  const results = await Promise.allSettled(requests.map((req) => post(target, req)));
  for (const r of results) {
    if (r.status === 'rejected') {
      const key = r.reason instanceof Error ? r.reason.message : String(r.reason);
      target.errors.set(key, (target.errors.get(key) ?? 0) + 1);
    } else if (r.value.status !== 200) {
      const key = `HTTP ${r.value.status}`;
      target.errors.set(key, (target.errors.get(key) ?? 0) + 1);
    } else if (record) {
      target.latencies.push(r.value.ms);
    }
  }
}

function startServers(input: AckServersInput): Promise<{ child: ChildProcess; ready: AckServersReady }> {
  const child = fork(fileURLToPath(new URL('./ack-servers.ts', import.meta.url)), [JSON.stringify(input)], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ack servers did not start within 60 s')), 60_000);
    child.once('message', (ready) => {
      clearTimeout(timer);
      resolve({ child, ready: ready as AckServersReady });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ack servers exited early (code ${code})`));
    });
  });
}

async function stopServers(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send('stop');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function benchAckLatency(env: BenchEnv, workDir: string): Promise<void> {
  console.log(`\n1. Ack latency: ${CONCURRENCY} concurrent signed slash commands, ${WARMUP_ROUNDS} warm-up + ${MEASURED_ROUNDS} measured rounds per target`);
  const configPath = join(workDir, 'ack-bench.yaml');
  await writeFile(configPath, toYaml({ bullmq: { prefix: env.prefix }, state: { queuePrefix: `${env.prefix}_own` } }));
  const { child, ready } = await startServers({
    dbUrl: env.dbUrl,
    redisUrl: env.redisUrl,
    signingSecret: env.signingSecret,
    botToken: env.botToken,
    configPath,
    cwd: workDir,
  });
  const target = (name: string, port: number): Target => ({
    name,
    port,
    agent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY }),
    latencies: [],
    errors: new Map(),
  });
  const vigil = target('Vigil /health', ready.vigilPort);
  const bolt = target('bare Bolt app (ack only)', ready.boltPort);
  const vigilHelp = target('Vigil /vigil help (no I/O)', ready.vigilPort);

  let seq = 0;
  const burst = (fields: Omit<SlashCommandFields, 'user_id' | 'response_url'>): SignedRequest[] =>
    Array.from({ length: CONCURRENCY }, () => {
      seq += 1;
      return signedSlashCommand(
        { ...fields, user_id: `UBENCH${seq}`, response_url: `${ready.slackApiUrl}/response/bench-${seq}` },
        { signingSecret: env.signingSecret },
      );
    });

  try {
    for (let i = 0; i < WARMUP_ROUNDS; i++) {
      const requests = burst({ command: '/health' });
      await round(vigil, requests, false);
      await round(bolt, requests, false);
      await round(vigilHelp, burst({ command: '/vigil', text: 'help' }), false);
    }
    for (let i = 0; i < MEASURED_ROUNDS; i++) {
      // The same signed requests go to both; who goes first alternates.
      const requests = burst({ command: '/health' });
      const order = i % 2 === 0 ? [vigil, bolt] : [bolt, vigil];
      for (const t of order) await round(t, requests, true);
      await round(vigilHelp, burst({ command: '/vigil', text: 'help' }), true);
    }
  } finally {
    for (const t of [vigil, bolt, vigilHelp]) t.agent.destroy();
    await stopServers(child);
  }

  const v = summarize(vigil.latencies);
  const b = summarize(bolt.latencies);
  console.log(line(vigil.name, v));
  console.log(line(bolt.name, b));
  console.log(line(vigilHelp.name, summarize(vigilHelp.latencies)));
  const p50Ratio = v.p50 / b.p50;
  const p99Ratio = v.p99 / b.p99;
  console.log(`  ratio Vigil/Bolt: p50 ${p50Ratio.toFixed(2)}×, p99 ${p99Ratio.toFixed(2)}× — p99 ${verdict(p99Ratio, TARGET_RATIO, '×')}`);
  for (const t of [vigil, bolt, vigilHelp]) {
    if (t.errors.size > 0) console.log(`  ${t.name}: failures ${JSON.stringify(Object.fromEntries(t.errors))}`);
  }
}
