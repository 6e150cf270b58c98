/**
 * Who owns an embedded server: a small JSON record beside its data, written by the Vigil process
 * that started it (the bot), naming that process, the server's process and its port.
 *
 * - The bot claims the record before it starts the server, so a live owner always has one.
 * - A record whose owner is gone (kill -9, OOM, power loss) marks a leftover: the next bot stops
 *   what it left running before starting its own, and says so once.
 * - The CLI only reads records: it borrows a live bot's server and never starts or stops one.
 *
 * Claims happen under a lock file (O_EXCL), so two bots started together cannot both win.
 */
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { isRunning, processRefSchema, selfRef, type ProcessRef } from './process-ref.ts';

const recordSchema = z.object({
  owner: processRefSchema,
  /** The server's main process; null between the claim and the spawn. */
  child: processRefSchema.nullable(),
  port: z.number().int().positive().nullable(),
});
export type OwnerRecord = z.infer<typeof recordSchema>;

const LOCK_WAIT_MS = 30_000;
/** A lock file still empty after this long was left by a process that died while taking it. */
const EMPTY_LOCK_STALE_MS = 5_000;

/** The record, or null when there is none or it is unreadable (then nothing can be trusted from it). */
export async function readRecord(file: string): Promise<OwnerRecord | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const parsed = recordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Written whole or not at all: a reader never sees half a record. */
async function writeRecord(file: string, record: OwnerRecord): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(record) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}

/** Another running Vigil owns this server: one bot per data directory. */
export class OwnedElsewhereError extends Error {
  constructor(
    readonly what: string,
    readonly owner: ProcessRef,
  ) {
    super(`${what} belongs to another running Vigil (pid ${owner.pid})`);
    this.name = 'OwnedElsewhereError';
  }
}

export interface Claim {
  /** Said once when a crashed Vigil's leftovers were stopped. */
  notice: string | undefined;
  /** Record the server's process and port as soon as it is spawned. */
  setChild(child: ProcessRef, port: number): Promise<void>;
  /** The server is stopped: drop the record (only if it is still ours). */
  release(): Promise<void>;
}

export interface ClaimOptions {
  recordFile: string;
  lockFile: string;
  /** "the embedded PostgreSQL in /x/.vigil/pg", for messages. */
  what: string;
  /** Processes of this server still running with no live owner (the record's child and any others found). */
  findLeftovers: (record: OwnerRecord | null) => Promise<ProcessRef[]>;
  /** Stop one leftover; false if it would not go. */
  stopLeftover: (ref: ProcessRef) => Promise<boolean>;
}

/**
 * Claim ownership, start the server with the claim, and give the claim back if the start fails;
 * the claim's notice (leftovers stopped) comes back with what was started.
 */
export async function startOwned<T extends object>(opts: ClaimOptions, start: (claim: Claim) => Promise<T>): Promise<T & { notice?: string }> {
  const claim = await claimOwnership(opts);
  try {
    const started = await start(claim);
    return { ...started, ...(claim.notice ? { notice: claim.notice } : {}) };
  } catch (err) {
    await claim.release();
    throw err;
  }
}

/** Become the owner, after stopping whatever a dead owner left running. */
export async function claimOwnership(opts: ClaimOptions): Promise<Claim> {
  const self = await selfRef();
  const notice = await withLock(opts.lockFile, async () => {
    const existing = await readRecord(opts.recordFile);
    if (existing && (await isRunning(existing.owner))) throw new OwnedElsewhereError(opts.what, existing.owner);
    const leftovers = await opts.findLeftovers(existing);
    const stopped: number[] = [];
    for (const ref of leftovers) {
      if (!(await opts.stopLeftover(ref))) throw new Error(`${opts.what}: a leftover server process (pid ${ref.pid}) from a Vigil that exited without stopping it would not stop; stop it by hand`);
      stopped.push(ref.pid);
    }
    await writeRecord(opts.recordFile, { owner: self, child: null, port: null });
    if (stopped.length === 0) return undefined;
    const by = existing ? `Vigil pid ${existing.owner.pid}` : 'an earlier Vigil';
    return `stopped ${opts.what} left running by ${by}, which exited without stopping it (server pid ${stopped.join(', ')}); starting a fresh one`;
  });

  let current: OwnerRecord = { owner: self, child: null, port: null };
  return {
    notice,
    async setChild(child, port) {
      current = { owner: self, child, port };
      await writeRecord(opts.recordFile, current);
    },
    async release() {
      // Compared whole: a later claim (by another process, or this one again) is not ours to drop.
      const onDisk = await readRecord(opts.recordFile);
      if (onDisk && JSON.stringify(onDisk) === JSON.stringify(current)) await rm(opts.recordFile, { force: true });
    },
  };
}

/**
 * Run `fn` holding `file` (created with O_EXCL, holding our pid). A lock whose holder is gone is
 * broken; one held by a live process is waited for.
 */
async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const self = await selfRef();
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(file, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(self));
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await lockHolder(file);
    if (holder === 'stale') {
      // Two starters may both see it stale; the O_EXCL create above still lets only one in.
      await rm(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${file} is held by Vigil pid ${holder?.pid ?? '?'} for over ${LOCK_WAIT_MS / 1000} s`);
    await sleep(50);
  }
  try {
    return await fn();
  } finally {
    await rm(file, { force: true });
  }
}

async function lockHolder(file: string): Promise<ProcessRef | 'stale' | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return null; // just released: retry at once
  let holder: ProcessRef | null = null;
  try {
    const parsed = processRefSchema.safeParse(JSON.parse(text));
    holder = parsed.success ? parsed.data : null;
  } catch {
    holder = null;
  }
  if (holder) return (await isRunning(holder)) ? holder : 'stale';
  // Empty or garbled: being written right now, or its writer died mid-write.
  const age = Date.now() - ((await stat(file).catch(() => null))?.mtimeMs ?? Date.now());
  return age > EMPTY_LOCK_STALE_MS ? 'stale' : null;
}

/** The record's server, if both it and its owner are running: what the CLI may borrow. */
export async function liveServer(file: string): Promise<{ owner: ProcessRef; port: number } | { none: 'no-record' | 'owner-gone' | 'not-ready' }> {
  const record = await readRecord(file);
  if (!record) return { none: 'no-record' };
  if (!(await isRunning(record.owner))) return { none: 'owner-gone' };
  if (!record.child || record.port === null || !(await isRunning(record.child))) return { none: 'not-ready' }; // still starting, or its server died
  return { owner: record.owner, port: record.port };
}

