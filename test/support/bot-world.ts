/**
 * What a test of the running bot needs around it: the Slack stand-in, a database of its own, a pool
 * on it for checking rows, a temp dir and a Redis prefix of its own; and one close() for all of it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { createPool } from '../../src/db/pools.ts';
import { TEST_REDIS_URL, uniqueName } from './env.ts';
import { createTestDatabase, type TestDatabase } from './pg.ts';
import { deleteKeysUnder } from './redis-keys.ts';
import { startSlackApiServer, type SlackApiServer } from './slack-api-server.ts';

export interface BotWorld {
  slack: SlackApiServer;
  testDb: TestDatabase;
  db: pg.Pool;
  workDir: string;
  /** Vigil's own key prefix (state.queuePrefix); `<queuePrefix>-inspected` is the inspected BullMQ prefix. */
  queuePrefix: string;
  close(): Promise<void>;
}

export async function createBotWorld(name: string): Promise<BotWorld> {
  // A little more lenient than the bots' pace in tests, as Slack's ~1/s is than the default 0.9/s.
  const slack = await startSlackApiServer({ perChannelPerSecond: 25, burst: 5 });
  const testDb = await createTestDatabase(name);
  const db = createPool(testDb.url, { name: `${name}-test`, max: 2, onIdleError: () => undefined });
  const workDir = await mkdtemp(join(tmpdir(), `vigil-${name}-`));
  const queuePrefix = uniqueName(name);
  return {
    slack,
    testDb,
    db,
    workDir,
    queuePrefix,
    async close() {
      await slack.close();
      await db.end();
      await testDb.drop();
      await rm(workDir, { recursive: true, force: true });
      const redis = new Redis(TEST_REDIS_URL);
      await deleteKeysUnder(redis, queuePrefix);
      await deleteKeysUnder(redis, `${queuePrefix}-inspected`);
      redis.disconnect();
    },
  };
}
