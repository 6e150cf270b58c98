import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { startOwned, type Claim, type OwnerRecord } from './ownership.ts';
import { isRunning, processesIn, processRef, stopProcess, type ProcessRef } from './process-ref.ts';

export interface EmbeddedRedisOptions {
  /** Working dir for redis-server (nothing is persisted, but it needs one); holds its ownership record. */
  dir: string;
  log: (line: string) => void;
  /** Raw redis-server output; silent unless the caller wants it. */
  debug?: (line: string) => void;
  /** The PATH to search, passed in because only src/config reads the environment. */
  pathEnv: string;
}

export interface EmbeddedRedis {
  url: string;
  stop(): Promise<void>;
  /** Said once at start when a crashed Vigil's redis-server had to be stopped first. */
  notice?: string;
}

export const REDIS_MISSING_MESSAGE =
  'No REDIS_URL is set and `redis-server` was not found on PATH, so Vigil cannot start an embedded Redis.\n' +
  'Fix it one of these ways:\n' +
  '  - Debian/Ubuntu: sudo apt-get install redis-server\n' +
  '  - macOS:         brew install redis\n' +
  '  - or point Vigil at an existing server: REDIS_URL=redis://host:6379';

/** Search PATH ourselves (no `which`: not installed everywhere, and no shell). */
export async function findOnPath(name: string, pathEnv: string): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter)) {
    // Empty/relative entries mean "cwd"; resolving binaries from cwd is a classic
    // hijack vector, so only absolute entries count.
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, fsConstants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

export async function startEmbeddedRedis(opts: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const bin = await findOnPath('redis-server', opts.pathEnv);
  if (!bin) throw new Error(REDIS_MISSING_MESSAGE);

  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const files = redisFiles(dir);
  // Ours from here: a running bot owning it makes this throw; a dead one's redis-server is stopped.
  return startOwned(
    {
      recordFile: files.record,
      lockFile: files.lock,
      what: `the embedded Redis in ${dir}`,
      findLeftovers: (record) => leftoverRedisServers(dir, record),
      stopLeftover: (ref) => stopProcess(ref, REDIS_STOP_STEPS),
    },
    (claim) => startOwnedRedis(bin, dir, opts, claim),
  );
}

async function startOwnedRedis(bin: string, dir: string, opts: EmbeddedRedisOptions, claim: Claim): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const debug = opts.debug ?? (() => {});

  // --save '' + appendonly no: this Redis is scratch space (queues, locks), so
  // never write snapshots into the user's tree. Args array, no shell.
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Recorded before anything else can fail, so a crash from here on leaves it findable.
  const ref = child.pid === undefined ? null : await processRef(child.pid);
  if (ref) await claim.setChild(ref, port);

  // Keep the tail of the output so a failed start can say why.
  const tail: string[] = [];
  const onOutput = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      debug(`[redis] ${line}`);
      tail.push(line);
      if (tail.length > 20) tail.shift();
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);

  let exited = child.exitCode !== null;
  let spawnError: Error | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      spawnError = err;
      exited = true;
      resolve();
    });
  });

  // 'exit' handlers must be synchronous; SIGKILL is the only thing we can still
  // do there, and it guarantees no orphaned redis-server after we are gone.
  const killOnExit = (): void => {
    if (!exited) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (!exited) {
      // SIGTERM = redis' graceful shutdown; with no save points it writes nothing.
      // The timer is unref'd so a fast exit doesn't leave us waiting on it.
      child.kill('SIGTERM');
      const timedOut = await Promise.race([exitedPromise.then(() => false), sleep(3_000, true, { ref: false })]);
      if (timedOut && !exited) {
        child.kill('SIGKILL');
        await exitedPromise;
      }
    }
    await claim.release();
  };

  try {
    await waitForPing(port, () => exited);
  } catch (err) {
    await stop();
    const why = spawnError?.message ?? (tail.join('\n') || String(err));
    throw new Error(`embedded redis-server (${bin}) did not come up on 127.0.0.1:${port}: ${why}`);
  }

  opts.log(`embedded Redis listening on 127.0.0.1:${port} (${bin})`);
  return { url: `redis://127.0.0.1:${port}`, stop };
}

/** The ownership record and its lock, inside the redis-server's working dir; the CLI finds the bot's Redis through them. */
export function redisFiles(dir: string): { record: string; lock: string } {
  return { record: join(dir, 'owner.json'), lock: join(dir, 'owner.lock') };
}

/** Graceful (nothing to save), then kill. */
const REDIS_STOP_STEPS: Array<{ signal: NodeJS.Signals; ms: number }> = [
  { signal: 'SIGTERM', ms: 3_000 },
  { signal: 'SIGKILL', ms: 2_000 },
];

/**
 * redis-servers of this dir with no live owner: the dead owner's recorded one and, on Linux, any
 * redis-server working in `dir` (redis chdirs to --dir; its command line is rewritten, so the cwd
 * is what tells). The scan also finds those left by Vigil versions that kept no record.
 */
async function leftoverRedisServers(dir: string, record: OwnerRecord | null): Promise<ProcessRef[]> {
  const found: ProcessRef[] = [];
  if (record?.child && (await isRunning(record.child))) found.push(record.child);
  for (const ref of await processesIn(dir, 'redis-server')) if (!found.some((r) => r.pid === ref.pid)) found.push(ref);
  return found;
}

/** Poll with PING: redis prints "Ready to accept connections" but output format varies by version. */
async function waitForPing(port: number, hasExited: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error('redis-server exited during startup');
    // One-shot client: no reconnect loop or offline queue, we do the retrying.
    const client = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    client.on('error', () => {}); // failures are expected while it boots
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch (err) {
      lastError = err;
    } finally {
      client.disconnect();
    }
    await sleep(50);
  }
  throw new Error(`no PONG within 5s: ${String(lastError)}`);
}
