import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * Counts the commands certain clients send, as Redis itself sees them (MONITOR), so "one round
 * trip" is measured on the server, not assumed from the client code. INFO commandstats would count
 * every other test's commands too; MONITOR names each command's client and database.
 *
 * `during(fn)` brackets `fn` with two ECHO markers from a connection of its own: MONITOR lists
 * commands in the order Redis ran them, so whatever `fn` sent and awaited lies between the two.
 * Commands run inside scripts (source `lua`) are not round trips and are left out.
 */
export interface CommandWatch {
  during<T>(fn: () => Promise<T>): Promise<{ result: T; commands: string[] }>;
  close(): void;
}

export type ClientFilter = { addr: string } | { db: number };

/** `addr=` of a connection, to watch exactly that client. */
export async function clientAddress(redis: Redis): Promise<string> {
  const info = String(await redis.call('CLIENT', 'INFO'));
  const addr = /(?:^|\s)addr=(\S+)/.exec(info)?.[1];
  if (!addr) throw new Error(`no addr in CLIENT INFO: ${info}`);
  return addr;
}

const QUEUE_STATE_ERROR = 'Command queue state error';

/**
 * A MONITOR connection of its own. ioredis marks it as monitoring only a tick after the MONITOR
 * reply, so monitor lines arriving in the same read as that reply (likely on a busy server: other
 * test files, or another suite sharing it) are taken for replies to no command and raised as
 * "Command queue state error", which used to fail the caller's beforeAll. Those lines come before
 * any marker of ours and are not needed, so that error is ignored; any other one is kept in
 * `failure` and fails the next `during`.
 */
function openMonitor(url: string): Promise<{ monitor: Redis; failure: () => Error | undefined }> {
  const monitor = new Redis(url, { monitor: true });
  let failure: Error | undefined;
  return new Promise((resolve, reject) => {
    monitor.on('error', (err: Error) => {
      if (err.message.startsWith(QUEUE_STATE_ERROR)) return;
      failure ??= err;
      reject(err);
    });
    monitor.once('monitoring', () => resolve({ monitor, failure: () => failure }));
  });
}

export async function watchRedisCommands(url: string, filter: ClientFilter): Promise<CommandWatch> {
  const marker = `vigil-watch-${randomBytes(6).toString('hex')}`;
  const db = 'db' in filter ? filter.db : undefined;
  const sentinel = new Redis(url, db === undefined ? {} : { db });
  const sentinelAddr = await clientAddress(sentinel);
  const { monitor, failure } = await openMonitor(url);

  let seen: (args: string[]) => void = () => undefined;
  monitor.on('monitor', (_time: string, args: string[], source: string, database: string) => seen(args.map(String).concat([source, database])));

  async function mark(tag: string): Promise<void> {
    const text = `${marker}-${tag}`;
    const arrived = new Promise<void>((resolve) => {
      const previous = seen;
      seen = (entry) => {
        previous(entry);
        if (entry[0]?.toLowerCase() === 'echo' && entry[1] === text) resolve();
      };
    });
    await sentinel.echo(text);
    await arrived;
  }

  return {
    async during(fn) {
      const commands: string[] = [];
      let recording = false;
      seen = (entry) => {
        const source = entry[entry.length - 2] ?? '';
        const database = Number(entry[entry.length - 1]);
        if (!recording || source === 'lua' || source === sentinelAddr) return;
        if ('addr' in filter ? source === filter.addr : database === filter.db) commands.push((entry[0] ?? '').toLowerCase());
      };
      await mark('start');
      recording = true;
      const result = await fn();
      await mark('end');
      recording = false;
      const failed = failure();
      if (failed) throw failed;
      return { result, commands };
    },
    close() {
      monitor.disconnect();
      sentinel.disconnect();
    },
  };
}
