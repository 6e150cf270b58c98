/**
 * What every benchmark shares: a fresh database with pg_stat_statements, a BullMQ prefix nobody
 * else uses (with a few queues so /health has queues to count), and the secrets to sign with.
 * Everything is removed by `cleanup()`.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createPool } from '../../src/db/pools.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';

export interface BenchEnv {
  dbName: string;
  dbUrl: string;
  redisUrl: string;
  prefix: string;
  signingSecret: string;
  botToken: string;
  queueNames: string[];
  cleanup(): Promise<void>;
}

const QUEUES = ['emails', 'webhooks', 'reports'];
const JOBS_PER_QUEUE = 10;

export async function createBenchEnv(): Promise<BenchEnv> {
  const database = await createTestDatabase('bench');
  const dbUrl = database.url;
  const db = createPool(dbUrl, { name: 'vigil-bench', max: 1, onIdleError: () => undefined });
  await db.query('CREATE EXTENSION pg_stat_statements');
  await db.end();

  const prefix = uniqueName('bench');
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  for (const name of QUEUES) {
    const queue = new Queue(name, { connection: redis, prefix });
    await queue.addBulk(Array.from({ length: JOBS_PER_QUEUE }, (_, i) => ({ name: 'job', data: { i } })));
    await queue.close();
  }

  return {
    dbName: database.name,
    dbUrl,
    redisUrl: TEST_REDIS_URL,
    prefix,
    signingSecret: `bench-signing-secret-${randomBytes(8).toString('hex')}`,
    botToken: `xoxb-bench-${randomBytes(8).toString('hex')}`,
    queueNames: QUEUES,
    async cleanup() {
      for (const p of [prefix, `${prefix}_own`]) await deleteKeysUnder(redis, p);
      redis.disconnect();
      // Free this database's pg_stat_statements entries (the table is shared by the whole server).
      const own = createPool(dbUrl, { name: 'vigil-bench', max: 1, onIdleError: () => undefined });
      await own
        .query('SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)')
        .catch(() => undefined);
      await own.end();
      await database.drop();
    },
  };
}
