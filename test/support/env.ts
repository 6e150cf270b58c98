import { randomBytes } from 'node:crypto';

/** The machine's real services; CI and developers' machines run them on the standard ports. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * TEST_PREFIX (default `vigil`, [a-z][a-z0-9_]{0,20}) begins the name of everything the suite
 * creates on those servers: databases, roles, Redis key prefixes, BullMQ queue prefixes (see
 * uniqueName). Suites sharing one PostgreSQL and one Redis (two checkouts, two CI jobs) set one each,
 * so each can tell its leftovers from the other's, and clean them up, by name. Validated here, once,
 * because the names end up unquoted in SQL and in Redis key patterns.
 */
export const TEST_PREFIX = checkedPrefix(process.env.TEST_PREFIX ?? 'vigil');

function checkedPrefix(prefix: string): string {
  if (!/^[a-z][a-z0-9_]{0,20}$/.test(prefix)) {
    throw new Error(`TEST_PREFIX must be a lower-case letter then up to 20 of [a-z0-9_] (it starts database and role names); got ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

// Postgres truncates identifiers beyond 63 bytes: two long names could then become one.
const MAX_NAME_LENGTH = 63;

/**
 * `<TEST_PREFIX>_<part>_<10 hex digits>`: the one way the suite names a database, role, Redis key
 * prefix or BullMQ queue prefix. Random, so parallel test files (and suites with the same
 * TEST_PREFIX) never share one; [a-z0-9_] only, so it is safe as an unquoted SQL identifier and
 * as a BullMQ prefix (no `:`).
 */
export function uniqueName(part: string): string {
  if (!/^[a-z][a-z0-9_]*$/.test(part)) throw new Error(`uniqueName: part must be [a-z][a-z0-9_]*, got ${JSON.stringify(part)}`);
  const name = `${TEST_PREFIX}_${part}_${randomBytes(5).toString('hex')}`;
  if (name.length > MAX_NAME_LENGTH) throw new Error(`uniqueName: ${name} is longer than ${MAX_NAME_LENGTH} characters; use a shorter part`);
  return name;
}
