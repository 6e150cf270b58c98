import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { describeError } from '../core/errors.ts';
import { markStatements } from './mark-statements.ts';

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
 * The comment that tells pg_stat_statements entries of Vigil's own apart (see isVigilStatement in
 * src/probes/statements.ts), written right after a statement's first keyword: PostgreSQL 18
 * records a statement from its first keyword on, so a comment in front of it would be lost there.
 */
const VIGIL_MARK = '/* vigil:migrate */';

/**
 * Apply pending migrations into the `vigil` schema, each in its own transaction, under a session
 * advisory lock so replicas starting together apply each file once. Returns the versions applied.
 *
 * Nothing is created that already exists, and existence is checked before any DDL: Postgres checks
 * the CREATE privilege even for `IF NOT EXISTS`, so a role that may write rows but not create
 * tables still starts once an administrator has migrated.
 *
 * Every statement sent here carries Vigil's marker, so none of them shows in /slowqueries when
 * Vigil's state lives in the database it inspects (a fresh database otherwise shows the migration
 * DDL as most of its top statements).
 */
export async function migrate(pool: pg.Pool, migrations = readMigrations()): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query(`SELECT ${VIGIL_MARK} pg_advisory_lock($1)`, [MIGRATION_LOCK]);
    const exists = async (sql: string) => (await client.query<{ found: boolean }>(sql)).rows[0]?.found === true;
    if (!(await exists(`SELECT ${VIGIL_MARK} EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '${STATE_SCHEMA}') AS found`))) {
      await client.query(`CREATE ${VIGIL_MARK} SCHEMA ${STATE_SCHEMA}`);
    }
    if (!(await exists(`SELECT ${VIGIL_MARK} to_regclass('${STATE_SCHEMA}.schema_migrations') IS NOT NULL AS found`))) {
      await client.query(`CREATE ${VIGIL_MARK} TABLE ${STATE_SCHEMA}.schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
    }
    const done = new Set(
      (await client.query<{ version: number }>(`SELECT ${VIGIL_MARK} version FROM ${STATE_SCHEMA}.schema_migrations`)).rows.map((r) => r.version),
    );
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      try {
        await client.query(migrationStatement(m));
      } catch (err) {
        throw new Error(`Migration ${m.version}_${m.name} failed: ${describeError(err)}`, { cause: err });
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    // A connection whose unlock failed may still hold the lock: destroy it rather than pool it.
    const unlocked = await client.query(`SELECT ${VIGIL_MARK} pg_advisory_unlock($1)`, [MIGRATION_LOCK]).then(
      () => true,
      () => false,
    );
    client.release(!unlocked);
  }
}

const BODY_TAG = '$vigil_migration$';
const SQL_TAG = '$vigil_migration_sql$';

/**
 * One migration as one marked statement: a DO block that sets the search path, runs the file and
 * records its version. Sent alone, the DO is a transaction of its own, so a failing file changes
 * nothing and leaves no version row, and no BEGIN or COMMIT is sent (since PostgreSQL 16 those
 * share one pg_stat_statements entry with the application's, so no marker could set them apart).
 *
 * With pg_stat_statements' default `track = top` only the DO is recorded. With `track = all`
 * (docker-compose.yml sets it) the file's statements are recorded too, as nested ones, each with
 * its own text: markStatements puts the marker into every one of them. It only adds a comment
 * between tokens, so a file it misreads still runs as written; at worst a statement shows.
 */
export function migrationStatement(m: Migration): string {
  if (m.sql.includes(BODY_TAG) || m.sql.includes(SQL_TAG)) throw new Error(`Migration ${m.version}_${m.name} must not contain ${BODY_TAG} or ${SQL_TAG}`);
  // readMigrations allows only digits and [\w-] here; kept so for migrations passed in directly,
  // since both are spliced into the statement (a comment and a string literal).
  const version = Math.trunc(m.version);
  const name = m.name.replace(/[^\w-]/g, '_');
  return `DO ${VIGIL_MARK.replace('migrate', `migrate ${version}_${name}`)} ${BODY_TAG}
BEGIN
  -- Migration files name tables unqualified; they land in Vigil's schema, never in public.
  PERFORM ${VIGIL_MARK} set_config('search_path', '${STATE_SCHEMA}, public', true);
  EXECUTE ${SQL_TAG}${markStatements(m.sql, VIGIL_MARK)}${SQL_TAG};
  INSERT ${VIGIL_MARK} INTO ${STATE_SCHEMA}.schema_migrations (version, name) VALUES (${version}, '${name}');
END
${BODY_TAG}`;
}
