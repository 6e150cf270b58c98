import pg from 'pg';
import { TEST_DATABASE_URL, uniqueId } from './env.ts';

export interface TestDatabase {
  name: string;
  url: string;
  /** DROP DATABASE … WITH (FORCE): also ends sessions a test left behind. */
  drop(): Promise<void>;
}

/** URL of `database` on the test server (same host, user, password). */
export function databaseUrl(database: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database, so pg_stat_statements, schema and activity belong to this test file alone. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  // uniqueId is [a-z0-9_] only, so the name is safe to interpolate as an identifier.
  const name = uniqueId(prefix).toLowerCase();
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: databaseUrl(name),
    drop: () => admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}
