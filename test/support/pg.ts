import pg from 'pg';
import { TEST_DATABASE_URL, uniqueId } from './env.ts';

export interface TestDatabase {
  name: string;
  url: string;
  create(): Promise<void>;
  /** DROP DATABASE … WITH (FORCE): also ends sessions a test left behind. */
  drop(): Promise<void>;
}

/** URL of `database` on the test server (same host, user, password). */
export function databaseUrl(database: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A database name of our own on the test server, not created yet (for "appears later" cases). */
export function testDatabase(prefix: string): TestDatabase {
  // uniqueId is [a-z0-9_] only, so the name is safe to interpolate as an identifier.
  const name = uniqueId(prefix).toLowerCase();
  return {
    name,
    url: databaseUrl(name),
    create: () => admin(`CREATE DATABASE ${name}`),
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** A fresh, empty database, so pg_stat_statements, schema and activity belong to this test file alone. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const db = testDatabase(prefix);
  await db.create();
  return db;
}
