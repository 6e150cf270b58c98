import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { describeError } from '../core/errors.ts';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

// Any constant both replicas agree on; "vigil" in ASCII keeps it recognisable in pg_locks.
const MIGRATION_LOCK = 0x766967696c;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Numbered `NNN_name.sql` files, in order. A gap or duplicate number is a packaging bug. */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const match = /^(\d+)_([\w-]+)\.sql$/.exec(file);
      if (!match) throw new Error(`Migration file name must be NNN_name.sql: ${file}`);
      return { version: Number(match[1]), name: match[2] ?? file, sql: readFileSync(join(dir, file), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`Migrations must be numbered 1, 2, 3…; found ${m.version} at position ${i + 1}`);
  });
  return migrations;
}

/** Vigil's own tables live in this schema, apart from whatever the inspected database holds. */
export const STATE_SCHEMA = 'vigil';

/**
 * Apply pending migrations into the `vigil` schema, each in its own transaction, under a session
 * advisory lock so replicas starting together apply each file once. Returns the versions applied.
 *
 * Nothing is created that already exists, and existence is checked before any DDL: Postgres checks
 * the CREATE privilege even for `IF NOT EXISTS`, so a role that may write rows but not create
 * tables still starts once an administrator has migrated.
 */
export async function migrate(pool: pg.Pool, migrations = readMigrations()): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const exists = async (sql: string) => (await client.query<{ found: boolean }>(sql)).rows[0]?.found === true;
    if (!(await exists(`SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '${STATE_SCHEMA}') AS found`))) {
      await client.query(`CREATE SCHEMA ${STATE_SCHEMA}`);
    }
    if (!(await exists(`SELECT to_regclass('${STATE_SCHEMA}.schema_migrations') IS NOT NULL AS found`))) {
      await client.query(`CREATE TABLE ${STATE_SCHEMA}.schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
    }
    const done = new Set(
      (await client.query<{ version: number }>(`SELECT version FROM ${STATE_SCHEMA}.schema_migrations`)).rows.map((r) => r.version),
    );
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        // Migration files name tables unqualified; they land in Vigil's schema, never in public.
        await client.query(`SET LOCAL search_path TO ${STATE_SCHEMA}, public`);
        await client.query(m.sql);
        await client.query(`INSERT INTO ${STATE_SCHEMA}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`Migration ${m.version}_${m.name} failed: ${describeError(err)}`, { cause: err });
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    // A connection whose unlock failed may still hold the lock: destroy it rather than pool it.
    const unlocked = await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).then(
      () => true,
      () => false,
    );
    client.release(!unlocked);
  }
}
