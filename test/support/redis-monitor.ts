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

export async function watchRedisCommands(url: string, filter: ClientFilter): Promise<CommandWatch> {
  const marker = `vigil-watch-${randomBytes(6).toString('hex')}`;
  const db = 'db' in filter ? filter.db : undefined;
  const sentinel = new Redis(url, db === undefined ? {} : { db });
  const sentinelAddr = await clientAddress(sentinel);
  const monitor = await new Redis(url).monitor();

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
      return { result, commands };
    },
    close() {
      monitor.disconnect();
      sentinel.disconnect();
    },
  };
}
