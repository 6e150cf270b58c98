import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';

/**
 * A process named beyond its pid: pids are reused after a crash and reboot, start times (clock
 * ticks since boot, from /proc) are not. `start` is null where there is no /proc (macOS): then
 * only the pid is compared, the best that platform offers.
 */
export const processRefSchema = z.object({ pid: z.number().int().positive(), start: z.number().int().nonnegative().nullable() });
export type ProcessRef = z.infer<typeof processRefSchema>;

interface ProcStat {
  state: string;
  start: number;
  comm: string;
}

async function readStat(pid: number): Promise<ProcStat | null> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (text === null) return null;
  // The command name may hold spaces and parentheses: the fields after it start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', start: Number(fields[19]), comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')) };
}

const hasProc = (async () => (await readStat(process.pid)) !== null)();

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, just not ours to signal
  }
}

/** The live process with this pid, as a ref; null if there is none. */
export async function processRef(pid: number): Promise<ProcessRef | null> {
  if (!(await hasProc)) return pidExists(pid) ? { pid, start: null } : null;
  const stat = await readStat(pid);
  return stat && stat.state !== 'Z' ? { pid, start: stat.start } : null;
}

/** This very process. */
export async function selfRef(): Promise<ProcessRef> {
  return (await processRef(process.pid)) ?? { pid: process.pid, start: null };
}

/** The same process is still running (not a zombie, not a later process that got its pid). */
export async function isRunning(ref: ProcessRef): Promise<boolean> {
  const now = await processRef(ref.pid);
  return now !== null && (ref.start === null || now.start === null || now.start === ref.start);
}

/** The kernel's short name of the process (`postgres`, `redis-server`), or null off Linux or when gone. */
export async function processName(pid: number): Promise<string | null> {
  return (await readStat(pid))?.comm ?? null;
}

/**
 * Stop a process that is not our child (a crashed Vigil's leftover): each signal in turn, waiting
 * `ms` for it to go, until it has. True if it is gone.
 */
export async function stopProcess(ref: ProcessRef, steps: Array<{ signal: NodeJS.Signals; ms: number }>): Promise<boolean> {
  for (const { signal, ms } of steps) {
    if (!(await isRunning(ref))) return true;
    try {
      process.kill(ref.pid, signal);
    } catch {
      return !(await isRunning(ref));
    }
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!(await isRunning(ref))) return true;
      await sleep(50);
    }
  }
  return !(await isRunning(ref));
}

/** Linux: every running process with this kernel name whose working directory is `dir`. */
export async function processesIn(dir: string, name: string): Promise<ProcessRef[]> {
  const found: ProcessRef[] = [];
  const real = await realpath(dir).catch(() => dir); // the kernel reports the resolved path
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const stat = await readStat(pid);
    if (!stat || stat.comm !== name || stat.state === 'Z') continue;
    if ((await readlink(`/proc/${pid}/cwd`).catch(() => null)) === real) found.push({ pid, start: stat.start });
  }
  return found;
}
