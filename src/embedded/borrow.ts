/**
 * The CLI's side of the embedded servers: it never starts or stops one (a one-shot that started
 * a cluster would check a brand-new empty database, and one that stopped it would pull it from
 * under the bot and the other calls). It borrows the running bot's, found through the ownership
 * records the bot keeps beside them, or has none.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { liveServer } from './ownership.ts';
import { connectionUrl, postgresFiles } from './postgres-server.ts';
import { redisFiles } from './redis-server.ts';

/** Where the bot keeps its embedded servers under its data dir (.vigil), as the container lays them out. */
export const EMBEDDED_DIRS = { postgres: 'pg', redis: 'redis' } as const;

export interface Borrowed {
  url: string;
  /** The bot that owns it. */
  ownerPid: number;
}

export type BorrowResult = Borrowed | { none: string };

/** The running bot's embedded PostgreSQL under `dataDir`, or why there is none to borrow. */
export async function borrowBotPostgres(dataDir: string): Promise<BorrowResult> {
  const files = postgresFiles(join(dataDir, EMBEDDED_DIRS.postgres));
  const live = await liveServer(files.record);
  if ('none' in live) return { none: whyNone(live.none, 'PostgreSQL') };
  // The bot and the CLI normally run as the same user; a root-owned 0600 file says so plainly.
  const password = await readFile(files.password, 'utf8').catch((err: NodeJS.ErrnoException) => ({ unreadable: err.code ?? err.message }));
  if (typeof password !== 'string') return { none: `the running Vigil bot's (pid ${live.owner.pid}) PostgreSQL password in ${files.password} is unreadable here (${password.unreadable})` };
  return { url: connectionUrl(password.trim(), live.port), ownerPid: live.owner.pid };
}

/** The running bot's embedded Redis under `dataDir`, or why there is none to borrow. */
export async function borrowBotRedis(dataDir: string): Promise<BorrowResult> {
  const live = await liveServer(redisFiles(join(dataDir, EMBEDDED_DIRS.redis)).record);
  if ('none' in live) return { none: whyNone(live.none, 'Redis') };
  return { url: `redis://127.0.0.1:${live.port}`, ownerPid: live.owner.pid };
}

function whyNone(reason: 'no-record' | 'owner-gone' | 'not-ready', what: string): string {
  switch (reason) {
    case 'no-record':
      return 'no Vigil bot is running here';
    case 'owner-gone':
      return `the Vigil bot that ran the embedded ${what} here has exited (its next start stops what it left running)`;
    case 'not-ready':
      return `the running Vigil bot's embedded ${what} is not up (starting, or it stopped)`;
  }
}
