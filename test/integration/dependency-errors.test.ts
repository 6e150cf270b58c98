/**
 * What a person reads when Postgres or Redis is down: which one, where (host:port, never
 * credentials) and why in words, from the real drivers' real errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { endpointOf, explainDependencyError } from '../../src/core/dependency-errors.ts';
import { createPool } from '../../src/db/pools.ts';
import { connectProbeRedis, lastLinkError } from '../../src/db/redis-clients.ts';
import { freePort } from '../../src/embedded/free-port.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { databaseUrl } from '../support/pg.ts';
import { waitFor } from '../support/wait.ts';

const pools: pg.Pool[] = [];
const clients: Redis[] = [];
const silent = pino({ level: 'silent' });
// Where the suite's servers are (TEST_DATABASE_URL, TEST_REDIS_URL), as the messages name them.
const pgEndpoint = endpointOf(TEST_DATABASE_URL, 5432);
const redisEndpoint = endpointOf(TEST_REDIS_URL, 6379);
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  for (const c of clients) c.disconnect();
});

async function pgFailure(url: string): Promise<string | undefined> {
  const pool = createPool(url, { name: 'vigil-test-down', max: 1, onIdleError: () => undefined });
  pools.push(pool);
  const err = await pool.query('SELECT 1').then(() => null, (e: unknown) => e);
  return explainDependencyError(err, { postgres: endpointOf(url, 5432) })?.userMessage;
}

async function redisFailure(url: string): Promise<string | undefined> {
  const redis = await connectProbeRedis(url, silent);
  clients.push(redis);
  await waitFor(() => lastLinkError(redis) !== undefined, { what: 'the link error' });
  const err = await redis.ping().then(() => null, (e: unknown) => e);
  return explainDependencyError(err, { redis: endpointOf(url, 6379) }, () => lastLinkError(redis))?.userMessage;
}

describe('a dependency that is down, in words', () => {
  it('Postgres refusing, or without the database asked for', async () => {
    const port = await freePort();
    expect(await pgFailure(`postgres://vigil:s3cret@127.0.0.1:${port}/app`)).toBe(`Postgres at 127.0.0.1:${port} refused the connection (is it running, on that port?).`);
    expect(await pgFailure(databaseUrl(uniqueName('no_such_db')))).toBe(`Postgres at ${pgEndpoint} has no such database.`);
  });

  it('Redis refusing, or without the database index asked for (instead of quietly reading db 0)', async () => {
    const port = await freePort();
    expect(await redisFailure(`redis://:s3cret@127.0.0.1:${port}`)).toBe(`Redis at 127.0.0.1:${port} refused the connection (is it running, on that port?).`);
    const url = new URL(TEST_REDIS_URL);
    url.pathname = '/99';
    expect(await redisFailure(url.toString())).toMatch(new RegExp(`^${escapeRegExp(`Redis at ${redisEndpoint} has no such database index`)}`));
  });

  it('is null for an error that is Vigil’s own', () => {
    expect(explainDependencyError(new TypeError("Cannot read properties of undefined (reading 'rows')"), { postgres: '127.0.0.1:5432' })).toBeNull();
  });
});
