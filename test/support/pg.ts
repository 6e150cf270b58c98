import pg from 'pg';
import { TEST_DATABASE_URL, uniqueName } from './env.ts';

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

/** URL of `database` on the test server as `role` (the server trusts local connections). */
export function roleUrl(role: string, database: string): string {
  const url = new URL(databaseUrl(database));
  url.username = role;
  url.password = '';
  return url.toString();
}

/** Run one statement as the test server's administrator, in `database` (default: the test database). */
export async function adminQuery(sql: string, database?: string): Promise<void> {
  const client = new pg.Client({ connectionString: database ? databaseUrl(database) : TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A database of our own on the test server, named `<TEST_PREFIX>_<part>_<random>` (see uniqueName),
 * not created yet (for "appears later" cases).
 */
export function testDatabase(part: string): TestDatabase {
  // uniqueName is [a-z0-9_] only, so the name is safe to interpolate as an identifier.
  const name = uniqueName(part);
  return {
    name,
    url: databaseUrl(name),
    create: () => adminQuery(`CREATE DATABASE ${name}`),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** A fresh, empty database, so pg_stat_statements, schema and activity belong to this test file alone. */
export async function createTestDatabase(part: string): Promise<TestDatabase> {
  const db = testDatabase(part);
  await db.create();
  return db;
}
