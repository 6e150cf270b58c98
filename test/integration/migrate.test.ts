import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { migrate, readMigrations } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pools.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../src/db/migrations');

const pools: pg.Pool[] = [];
const tempDirs: string[] = [];
const databases: TestDatabase[] = [];

function makePool(url: string, max = 2): pg.Pool {
  const pool = createPool(url, { name: 'vigil-test', max, onIdleError: () => undefined });
  pools.push(pool);
  return pool;
}

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase('mig');
  databases.push(db);
  return db;
}

/** A migrations directory holding `files` (name → SQL). */
function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-migrations-'));
  tempDirs.push(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

async function versions(pool: pg.Pool): Promise<number[]> {
  const { rows } = await pool.query<{ version: number }>('SELECT version FROM vigil.schema_migrations ORDER BY version');
  return rows.map((r) => r.version);
}

afterAll(async () => {
  await Promise.all(pools.map((p) => (p.ended ? undefined : p.end().catch(() => undefined))));
  await Promise.all(databases.map((d) => d.drop()));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('readMigrations()', () => {
  it('reads the shipped migrations, numbered from 1 without gaps', () => {
    const migrations = readMigrations();
    expect(migrations.length).toBeGreaterThan(0);
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
    expect(migrations[0]).toMatchObject({ version: 1, name: 'command_runs' });
    expect(migrations[0]?.sql).toContain('CREATE TABLE command_runs');
  });

  it('sorts by number and ignores files that are not .sql', () => {
    const dir = migrationsDir({ '002_b.sql': 'SELECT 2', '001_a.sql': 'SELECT 1', 'README.md': '# notes' });
    expect(readMigrations(dir).map((m) => `${m.version}_${m.name}`)).toEqual(['1_a', '2_b']);
  });

  it('throws on a gap in the numbering', () => {
    const dir = migrationsDir({ '001_a.sql': 'SELECT 1', '003_c.sql': 'SELECT 3' });
    expect(() => readMigrations(dir)).toThrow(/found 3 at position 2/);
  });

  it('throws on a duplicate number', () => {
    const dir = migrationsDir({ '001_a.sql': 'SELECT 1', '001_b.sql': 'SELECT 1' });
    expect(() => readMigrations(dir)).toThrow(/numbered 1, 2, 3/);
  });

  it('throws on a file name that is not NNN_name.sql', () => {
    const dir = migrationsDir({ '001_a.sql': 'SELECT 1', 'two.sql': 'SELECT 2' });
    expect(() => readMigrations(dir)).toThrow(/NNN_name\.sql: two\.sql/);
  });
});

describe('migrate()', () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await freshDatabase();
    pool = makePool(db.url);
  });

  it('applies every shipped migration once, then nothing', async () => {
    const all = readMigrations().map((m) => m.version);
    expect(await migrate(pool)).toEqual(all);
    expect(await versions(pool)).toEqual(all);
    const { rows } = await pool.query<{ name: string }>('SELECT name FROM vigil.schema_migrations WHERE version = 1');
    expect(rows[0]?.name).toBe('command_runs');
    // The table the first migration creates is in Vigil's own schema, and nothing is in public.
    expect((await pool.query("SELECT to_regclass('vigil.command_runs') IS NOT NULL AS ok")).rows[0]).toEqual({ ok: true });
    const inPublic = await pool.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    expect(inPublic.rows).toEqual([]);

    expect(await migrate(pool)).toEqual([]);
    expect(await versions(pool)).toEqual(all);
  });

  it('applies each migration exactly once when 4 replicas start together', async () => {
    const fresh = await freshDatabase();
    // The shipped first migration plus two more, slow enough that unsynchronised runs would overlap.
    const dir = migrationsDir({
      '002_beta.sql': 'CREATE TABLE beta (id int); INSERT INTO beta VALUES (1); SELECT pg_sleep(0.05);',
      '003_gamma.sql': 'ALTER TABLE beta ADD COLUMN note text; SELECT pg_sleep(0.05);',
    });
    copyFileSync(join(MIGRATIONS_DIR, '001_command_runs.sql'), join(dir, '001_command_runs.sql'));
    const migrations = readMigrations(dir);

    const replicas = Array.from({ length: 4 }, () => makePool(fresh.url, 1));
    const results = await Promise.all(replicas.map((p) => migrate(p, migrations)));

    expect(results.flat().sort((a, b) => a - b)).toEqual([1, 2, 3]);
    // The first replica to get the lock applies everything; the others find nothing to do.
    expect(results.filter((r) => r.length > 0)).toHaveLength(1);
    const check = replicas[0];
    if (!check) throw new Error('no replica pool');
    expect(await versions(check)).toEqual([1, 2, 3]);
    expect((await check.query<{ n: string }>('SELECT count(*) AS n FROM vigil.beta')).rows[0]?.n).toBe('1');
  });

  it('rolls back a failing migration, names it, and releases the lock', async () => {
    const fresh = await freshDatabase();
    const broken = migrationsDir({
      '001_ok.sql': 'CREATE TABLE ok_table (id int);',
      '002_bad.sql': 'CREATE TABLE half_done (id int); SELECT no_such_column FROM ok_table;',
    });
    const first = makePool(fresh.url, 1);
    await expect(migrate(first, readMigrations(broken))).rejects.toThrow(/^Migration 2_bad failed: .*no_such_column/);
    expect(await versions(first)).toEqual([1]);
    expect((await first.query("SELECT to_regclass('vigil.half_done') IS NULL AS gone")).rows[0]).toEqual({ gone: true });

    // Another replica is not blocked by a lock left behind, and applies the fixed migration.
    const fixed = migrationsDir({
      '001_ok.sql': 'CREATE TABLE ok_table (id int);',
      '002_bad.sql': 'CREATE TABLE half_done (id int);',
    });
    const second = makePool(fresh.url, 1);
    expect(await migrate(second, readMigrations(fixed))).toEqual([2]);
  });
});
