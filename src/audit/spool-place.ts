import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where audit events are spooled: one directory per state database, so events spooled while one
 * database was away are replayed into that database only, never into another a later start uses
 * (another DATABASE_URL, a restored copy). `identity` names the database without credentials:
 * `host:port/dbname`, or the embedded server's data directory.
 */
export function spoolDirFor(dataDir: string, identity: string): string {
  const dir = join(dataDir, 'audit-spool', createHash('sha256').update(identity).digest('hex').slice(0, 16));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // For the person looking: which database these events are waiting for.
  const label = join(dir, 'database');
  if (!existsSync(label)) writeFileSync(label, `${identity}\n`, { mode: 0o600 });
  return dir;
}

/** The database a configured URL names, without credentials: `host:port/dbname`. */
export function databaseIdentity(url: string): string {
  const u = new URL(url);
  const host = u.hostname || (u.searchParams.get('host') ?? 'localhost');
  return `${host}:${u.port || 5432}${u.pathname || '/'}`;
}

/**
 * Events spooled for other databases, or by a version that kept one spool for all: said at start,
 * since they are not replayed here. Each entry names where they wait and for which database.
 */
export function spoolsElsewhere(dataDir: string, mine: string): Array<{ dir: string; database: string; bytes: number }> {
  const root = join(dataDir, 'audit-spool');
  if (!existsSync(root)) return [];
  const found: Array<{ dir: string; database: string; bytes: number }> = [];
  const waiting = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.jsonl')).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
  const legacy = waiting(root);
  if (legacy > 0) found.push({ dir: root, database: 'unknown (spooled before spools were kept per database)', bytes: legacy });
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const dir = join(root, entry.name);
    if (!entry.isDirectory() || dir === mine) continue;
    const bytes = waiting(dir);
    if (bytes === 0) continue;
    const label = join(dir, 'database');
    found.push({ dir, database: existsSync(label) ? readFileSync(label, 'utf8').trim() : 'unknown', bytes });
  }
  return found;
}
