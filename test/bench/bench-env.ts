/**
 * What every benchmark shares: a fresh database with pg_stat_statements, a BullMQ prefix nobody
 * else uses (with a few queues so /health has queues to count), and the secrets to sign with.
 * Everything is removed by `cleanup()`.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { TEST_DATABASE_URL, TEST_REDIS_URL, uniqueId } from '../support/env.ts';

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
  const dbName = uniqueId('vigil_bench');
  const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${dbName}`;
  const dbUrl = url.toString();
  const db = new pg.Pool({ connectionString: dbUrl, max: 1 });
  await db.query('CREATE EXTENSION pg_stat_statements');
  await db.end();

  const prefix = uniqueId('vigil_bench');
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  for (const name of QUEUES) {
    const queue = new Queue(name, { connection: redis, prefix });
    await queue.addBulk(Array.from({ length: JOBS_PER_QUEUE }, (_, i) => ({ name: 'job', data: { i } })));
    await queue.close();
  }

  return {
    dbName,
    dbUrl,
    redisUrl: TEST_REDIS_URL,
    prefix,
    signingSecret: `bench-signing-secret-${randomBytes(8).toString('hex')}`,
    botToken: `xoxb-bench-${randomBytes(8).toString('hex')}`,
    queueNames: QUEUES,
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      redis.disconnect();
      // Free this database's pg_stat_statements entries (the table is shared by the whole server).
      const own = new pg.Pool({ connectionString: dbUrl, max: 1 });
      await own
        .query('SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)')
        .catch(() => undefined);
      await own.end();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    },
  };
}
