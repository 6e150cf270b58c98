/**
 * The real bot in a process of its own, for the alert benchmarks: `node dist/main.js` (what
 * `npm start` runs; dist/ is built first when stale), with its env and a YAML config written
 * to a temp dir, so what it costs (CPU, RSS) is its own. Its RSS is sampled from /proc every
 * 250 ms (and VmHWM, the kernel's own peak, read before it stops); its warnings and errors (pino
 * JSON on stderr) are kept for the report. Stopped with SIGTERM, as an operator would.
 *
 * `VIGIL_BENCH_NODE_ARGS` (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, space-separated) are added
 * to the bot's node flags, to look inside it during a benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { DIST_MAIN, ensureBuilt } from './run-process.ts';

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const RSS_EVERY_MS = 250;
const KEPT_LINES = 200;

export interface VigilProcessOptions {
  /** Written as the YAML named by VIGIL_CONFIG. */
  config: Record<string, unknown>;
  /** SLACK_*, DATABASE_URL, REDIS_URL, ALERT_WEBHOOK_TOKEN…; PORT defaults to 0 (a free port). */
  env: Record<string, string>;
  /** The config file and the bot's cwd (so nothing is written into the repository). */
  workDir: string;
  /** LOG_LEVEL (default warn: warnings and errors are what a benchmark report wants). */
  logLevel?: string;
}

export interface LogLine {
  level: number;
  msg: string;
  line: string;
}

export interface VigilProcess {
  pid: number;
  port: number;
  baseUrl: string;
  /** Peak RSS seen so far in MB: the larger of the sampled VmRSS and the kernel's VmHWM. */
  peakRssMb(): number;
  /** CPU time (user + system) the process has used so far, in ms. */
  cpuMs(): number;
  /** RSS samples (MB) taken every 250 ms, oldest first. */
  rssSamples: number[];
  /** Lines the bot logged at warn or above (the last 200), and how many of each message. */
  warnings: LogLine[];
  warningCounts: Map<string, number>;
  /** SIGTERM, wait (SIGKILL after 20 s); resolves with how it ended. Safe to call twice. */
  stop(): Promise<string>;
}

function readStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** utime + stime of a process from /proc/<pid>/stat, in ms (clock ticks are 1/100 s on Linux). */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Busy and total CPU time of the whole machine so far (all cores), in ms, from /proc/stat. */
export function machineCpuMs(): { busy: number; total: number } {
  const first = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const v = first.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: (total - idle) * 10, total: total * 10 };
}

export async function startVigilProcess(o: VigilProcessOptions): Promise<VigilProcess> {
  const configPath = join(o.workDir, `vigil-${process.pid}-${Date.now()}.yaml`);
  await writeFile(configPath, toYaml(o.config), { mode: 0o600 });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? o.workDir,
    PORT: '0',
    LOG_LEVEL: o.logLevel ?? 'warn',
    ...o.env,
    VIGIL_CONFIG: configPath,
  };
  const extraArgs = (process.env.VIGIL_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  ensureBuilt();
  const child: ChildProcess = spawn(process.execPath, [...extraArgs, DIST_MAIN], {
    cwd: o.workDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the Vigil process');

  let exited: string | null = null;
  const exitedPromise = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ? `killed by ${signal}` : `exited with code ${code}`;
      resolve(exited);
    });
    child.once('error', (err) => {
      exited = `could not be started: ${err.message}`;
      resolve(exited);
    });
  });
  const killOnExit = (): void => {
    if (exited === null) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  const stdout: string[] = [];
  const warnings: LogLine[] = [];
  const warningCounts = new Map<string, number>();
  let port: number | null = null;
  let ready = false;
  const lines = (stream: NodeJS.ReadableStream | null, each: (line: string) => void): void => {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) each(p);
    });
  };
  lines(child.stdout, (line) => {
    stdout.push(line);
    if (stdout.length > KEPT_LINES) stdout.shift();
    // Start-up lines are JSON log lines on a pipe: {"level":30,"time":…,"msg":"HTTP: …"}.
    const msg = messageOf(line);
    const http = /^HTTP: .* on port (\d+)/.exec(msg);
    if (http) port = Number(http[1]);
    if (msg.startsWith('Vigil is ready.')) ready = true;
  });
  lines(child.stderr, (line) => {
    let level = 60;
    let msg = line;
    try {
      const parsed = JSON.parse(line) as { level?: number; msg?: string };
      level = parsed.level ?? 60;
      msg = parsed.msg ?? line;
    } catch {
      // Not pino: a crash trace or a loader message. Kept as an error.
    }
    if (level < 40) return;
    warnings.push({ level, msg, line });
    if (warnings.length > KEPT_LINES) warnings.shift();
    warningCounts.set(msg, (warningCounts.get(msg) ?? 0) + 1);
  });

  const rssSamples: number[] = [];
  let peakKb = 0;
  const sample = (): void => {
    const rss = readStatusKb(pid, 'VmRSS');
    const hwm = readStatusKb(pid, 'VmHWM');
    if (rss !== null) {
      rssSamples.push(rss / 1024);
      peakKb = Math.max(peakKb, rss);
    }
    if (hwm !== null) peakKb = Math.max(peakKb, hwm);
  };
  const sampler = setInterval(sample, RSS_EVERY_MS);

  let stopping: Promise<string> | null = null;
  const stop = (): Promise<string> => {
    stopping ??= (async () => {
      sample();
      clearInterval(sampler);
      if (exited === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          if (exited === null) child.kill('SIGKILL');
        }, STOP_TIMEOUT_MS);
        await exitedPromise;
        clearTimeout(timer);
      }
      process.off('exit', killOnExit);
      return exited ?? 'exited';
    })();
    return stopping;
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!ready || port === null) {
    if (exited !== null || Date.now() > deadline) {
      await stop();
      const tail = [...stdout.slice(-20), ...warnings.slice(-20).map((w) => w.line)].join('\n');
      throw new Error(`Vigil did not become ready (${exited ?? `timed out after ${READY_TIMEOUT_MS} ms`}):\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const listening = port as number;
  return {
    pid,
    port: listening,
    baseUrl: `http://127.0.0.1:${listening}`,
    peakRssMb: () => peakKb / 1024,
    cpuMs: () => processCpuMs(pid),
    rssSamples,
    warnings,
    warningCounts,
    stop,
  };
}

/** The message of a JSON log line; any other line as it is. */
function messageOf(line: string): string {
  try {
    const parsed = JSON.parse(line) as { msg?: unknown };
    return typeof parsed.msg === 'string' ? parsed.msg : line;
  } catch {
    return line;
  }
}
