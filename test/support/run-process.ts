import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root: where a person runs `npm start` or `npx vigil`. */
export const REPO_ROOT = new URL('../..', import.meta.url).pathname;
/** The compiled bot, as `npm start` runs it. */
export const DIST_MAIN = join(REPO_ROOT, 'dist', 'main.js');

/**
 * Build dist/ unless it is fresh, as `npm start` does first (a few seconds when sources changed,
 * ~0.1 s otherwise). Concurrent callers build once between them (the build takes a lock).
 */
export function ensureBuilt(): void {
  execFileSync(process.execPath, [join(REPO_ROOT, 'src', 'bin', 'build.mjs'), '--if-stale'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A line as a person reads it: the message of a JSON log line (how Vigil's start-up lines look
 * when stdout is not a terminal), any other line as it is.
 */
export function logMessage(line: string): string {
  if (!line.startsWith('{"level":')) return line;
  try {
    const parsed = JSON.parse(line) as { msg?: unknown };
    return typeof parsed.msg === 'string' ? parsed.msg : line;
  } catch {
    return line;
  }
}

export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a real Vigil process (`node <args>`) the way a person would: from the repository root, with
 * only the env given (plus PATH), `input` on stdin; killed after 20 s (or `timeoutMs`) so a hang fails the test.
 */
export function runNode(args: string[], env: Record<string, string>, input = '', opts: { cwd?: string; timeoutMs?: number } = {}): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: opts.cwd ?? REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** A process identified beyond its pid: pids are reused, start times (in clock ticks since boot) are not. */
export interface ProcessId {
  pid: number;
  startTicks: number;
  command: string;
}

function readStat(pid: number): { ppid: number; startTicks: number; state: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces and parentheses) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '?', ppid: Number(fields[1]), startTicks: Number(fields[19]) };
  } catch {
    return null;
  }
}

/** Every process whose parent chain leads to `root` (not `root` itself), from /proc. */
export function descendantsOf(root: number): ProcessId[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  }
  const found: ProcessId[] = [];
  const visit = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      const stat = readStat(child);
      if (!stat) continue;
      const command = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      found.push({ pid: child, startTicks: stat.startTicks, command });
      visit(child);
    }
  };
  visit(root);
  return found;
}

/** The same process still exists and is not a zombie waiting to be reaped. */
export function stillRunning(p: ProcessId): boolean {
  const stat = readStat(p.pid);
  return stat !== null && stat.startTicks === p.startTicks && stat.state !== 'Z';
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A long-running process (the bot), its output kept in lines, to wait on and to signal. */
export interface LiveProcess {
  child: ChildProcess;
  pid: number;
  /** Output lines, a JSON log line as its message (see logMessage). */
  stdout: string[];
  stderr: string[];
  /** The first stdout line matching `pattern` (already printed or still to come). */
  line(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<ProcessExit>;
  /** Resolves with how it ended, or null if it is still running after `timeoutMs`. */
  exitWithin(timeoutMs: number): Promise<ProcessExit | null>;
  /** SIGKILL it and its descendants if still there (test cleanup). */
  kill(): void;
}

/** Start `command args` with only `env` (plus PATH and HOME), stdin a pipe kept open. */
export function startLive(command: string, args: string[], opts: { cwd: string; env: Record<string, string> }): LiveProcess {
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${command}`);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  const collect = (stream: NodeJS.ReadableStream, into: string[]): void => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      into.push(...parts.map(logMessage));
      for (const wake of waiters) wake();
    });
  };
  collect(child.stdout!, stdout);
  collect(child.stderr!, stderr);
  const exited = new Promise<ProcessExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exit: ProcessExit | null = null;
  void exited.then((e) => {
    exit = e;
    for (const wake of waiters) wake();
  });
  const known = new Map<number, ProcessId>();
  const remember = (): void => {
    for (const p of descendantsOf(pid)) known.set(p.pid, p);
  };

  return {
    child,
    pid,
    stdout,
    stderr,
    line(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          for (const l of stdout) {
            const match = pattern.exec(l);
            if (match) return done(() => resolve(match));
          }
          if (exit) done(() => reject(new Error(`exited (${JSON.stringify(exit)}) before printing ${pattern}:\n${[...stdout, ...stderr].slice(-30).join('\n')}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no line ${pattern} within ${timeoutMs} ms:\n${[...stdout, ...stderr].slice(-30).join('\n')}`))), timeoutMs);
        const done = (settle: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          remember();
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    exited,
    async exitWithin(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
      const result = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      return result;
    },
    kill() {
      remember();
      if (exit === null) child.kill('SIGKILL');
      for (const p of known.values()) if (stillRunning(p)) process.kill(p.pid, 'SIGKILL');
    },
  };
}
