import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { Redis } from 'ioredis';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './env.ts';
import { ensureBuilt } from './run-process.ts';

/**
 * Before any test: the real PostgreSQL (with pg_stat_statements preloaded) and Redis must answer.
 * On a machine with Debian's cluster tools, `.ci/services.sh` fixes what it can (start, preload,
 * restart); elsewhere the message says what to do.
 */
export default async function setup(): Promise<void> {
  let problems = await check();
  const script = new URL('../../.ci/services.sh', import.meta.url).pathname;
  if (problems.length > 0 && existsSync('/usr/bin/pg_ctlcluster') && process.getuid?.() === 0) {
    process.stdout.write(`test services: ${problems.join('; ')}; running .ci/services.sh\n`);
    execFileSync('bash', [script], { stdio: 'inherit' });
    problems = await check();
  }
  if (problems.length > 0) {
    throw new Error(
      `Tests need a real PostgreSQL and Redis:\n  - ${problems.join('\n  - ')}\n` +
        `Set TEST_DATABASE_URL / TEST_REDIS_URL, or on Debian run: sudo bash .ci/services.sh`,
    );
  }
  // Tests that run `npx vigil` or `node dist/main.js` would otherwise build dist/ inside their own timeout.
  // A build that fails fails those tests (saying why), not every test.
  try {
    ensureBuilt();
  } catch (err) {
    process.stderr.write(`dist/ could not be built; tests that run it will fail:\n${err instanceof Error ? err.message : String(err)}\n`);
  }
}

async function check(): Promise<string[]> {
  const problems: string[] = [];
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ libs: string }>("SELECT current_setting('shared_preload_libraries') AS libs");
    if (!rows[0]?.libs.includes('pg_stat_statements')) problems.push('pg_stat_statements is not in shared_preload_libraries');
  } catch (err) {
    problems.push(`PostgreSQL at ${TEST_DATABASE_URL} unreachable (${err instanceof Error ? err.message : String(err)})`);
  } finally {
    await client.end().catch(() => undefined); // never connected: nothing to close
  }
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined); // reported through the failed ping below
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    problems.push(`Redis at ${TEST_REDIS_URL} unreachable (${err instanceof Error ? err.message : String(err)})`);
  } finally {
    redis.disconnect();
  }
  return problems;
}
