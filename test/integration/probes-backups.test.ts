import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureBackupUrl } from '../../src/probes/backup-http.ts';
import { backupTarget, type BackupTarget } from '../../src/probes/backup-probe.ts';
import { readTarget } from '../../src/probes/read-target.ts';
import { readingDetails, readingLine } from '../../src/probes/probe-list.ts';
import { isUnavailable, type ProbeSources } from '../../src/probes/registration.ts';
import type { Queryable } from '../../src/db/queryable.ts';
import { backupDirs, backupsFrom, dumpFile, HOUR, measureDirAsNobody, startStampServer } from '../support/backup-fixtures.ts';
import { TEST_DATABASE_URL } from '../support/env.ts';

/**
 * The backup probe's three sources against real things: files with their mtime set by utimes in
 * temp directories, a local HTTP server, and the test Postgres' own pg_stat_archiver.
 */
const NOW = Date.now();
const dirs = backupDirs();
let pool: pg.Pool;

beforeAll(() => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
});
afterAll(async () => {
  dirs.cleanup();
  await pool.end();
});

function sources(backups: BackupTarget[], db: Queryable | null = null): ProbeSources {
  return { db, redis: null, queues: null, thresholdsFor: () => ({ waiting: 1, failed: 1 }), httpTargets: [], backups, missing: { postgres: 'DATABASE_URL is not set' }, now: () => NOW };
}

/** One backup read as /health reads it: planned, measured within `budgetMs`, judged. */
async function read(raw: Record<string, unknown>, budgetMs = 1000, db: Queryable | null = null) {
  const [b] = backupsFrom([raw], budgetMs);
  if (!b) throw new Error('no backup parsed');
  const planned = backupTarget(b, sources([b], db));
  if (isUnavailable(planned)) throw new Error(`unavailable: ${planned.unavailable}`);
  const reading = await readTarget('backup', planned, budgetMs);
  return { reading, line: readingLine(reading) };
}

describe('a backup directory', () => {
  it('is stale (warn, with how old) when its newest matching dump is 30 h old against maxAge 26h', async () => {
    const dir = dirs.make();
    dumpFile(dir, 'app-2026-12-04.dump', 54 * HOUR, NOW, 10);
    dumpFile(dir, 'app-2026-12-05.dump', 30 * HOUR, NOW, 2048);
    // Newer, but not a match: neither counts.
    dumpFile(dir, 'app-2026-12-06.log', 1 * HOUR, NOW);
    const { reading, line } = await read({ name: 'app-nightly', maxAge: '26h', dir, pattern: 'app-*.dump' });
    expect(reading.status).toBe('warn');
    expect(reading.values).toEqual({ age_seconds: 30 * 3600, size_bytes: 2048, files: 2 });
    expect(line).toBe('app-2026-12-05.dump · 2.0 KiB · 30h old · newest backup 30h old (max 26h)');
    expect(readingDetails(reading)).toEqual([
      { label: 'Directory', value: `${dir} (app-*.dump)` },
      { label: 'Newest', value: 'app-2026-12-05.dump, 2.0 KiB' },
      { label: 'Matching files', value: '2' },
      { label: 'Age', value: '30h (max 26h)' },
    ]);
  });

  it('is ok while the newest dump is younger than maxAge; without a pattern every visible regular file counts', async () => {
    const dir = dirs.make();
    dumpFile(dir, 'old.sql.gz', 40 * HOUR, NOW);
    dumpFile(dir, 'new.sql.gz', 2 * HOUR, NOW, 5);
    // A dump being written (rsync's hidden temp name) and a sub-directory are no backups.
    dumpFile(dir, '.new.sql.gz.Xy12ab', 1 * HOUR, NOW);
    mkdirSync(join(dir, 'archive'));
    const { reading, line } = await read({ name: 'db', maxAge: '26h', dir });
    expect(reading).toMatchObject({ status: 'ok', breaches: [], values: { age_seconds: 2 * 3600, size_bytes: 5, files: 2 } });
    expect(line).toBe('new.sql.gz · 5 B · 2h old');
  });

  it('fails when nothing matches: an empty directory, or only other files', async () => {
    const empty = dirs.make();
    const a = await read({ name: 'empty', maxAge: '26h', dir: empty, pattern: '*.dump' });
    expect(a.reading.status).toBe('fail');
    expect(a.line).toBe(`no backup matching *.dump in ${empty}`);
    const other = dirs.make();
    dumpFile(other, 'app.dump.log', HOUR, NOW);
    dumpFile(other, 'xapp.dump', HOUR, NOW);
    const b = await read({ name: 'other', maxAge: '26h', dir: other, pattern: 'app*.dump' });
    expect(b.line).toBe(`no backup matching app*.dump in ${other}`);
  });

  it('fails with a clear reason when the directory cannot be read: no permission, missing, not a directory', async () => {
    const dir = dirs.make();
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    dumpFile(locked, 'app.dump', HOUR, NOW);
    chmodSync(dir, 0o755);
    chmodSync(locked, 0o000);
    // Root reads any directory: then the probe runs as nobody, as Vigil would as a service user.
    const denied = process.getuid?.() === 0 ? await measureDirAsNobody(locked, '*') : await read({ name: 'x', maxAge: '1h', dir: locked }).then((r) => ({ error: r.reading.error }));
    expect(denied).toEqual({ error: `cannot read backup directory ${locked}: permission denied (EACCES)` });
    chmodSync(locked, 0o755);
    // The same child reads it once it may: the denial above was the permission, nothing else.
    if (process.getuid?.() === 0) expect(await measureDirAsNobody(locked, '*')).toMatchObject({ values: { files: 1 } });

    const missing = await read({ name: 'gone', maxAge: '1h', dir: join(dir, 'nope') });
    expect([missing.reading.status, missing.line]).toEqual(['fail', `cannot read backup directory ${join(dir, 'nope')}: it does not exist (ENOENT)`]);
    const file = join(dir, 'plain');
    writeFileSync(file, 'x');
    const notDir = await read({ name: 'file', maxAge: '1h', dir: file });
    expect(notDir.line).toBe(`cannot read backup directory ${file}: it is not a directory (ENOTDIR)`);
  });
});

describe('a "latest backup" URL', () => {
  const iso = (ms: number) => new Date(ms).toISOString();
  let server: Awaited<ReturnType<typeof startStampServer>>;
  beforeAll(async () => {
    server = await startStampServer((path) => {
      if (path === '/json') return { status: 200, body: JSON.stringify({ timestamp: iso(NOW - 2 * HOUR), size: 123 }) };
      if (path === '/time') return { status: 200, body: JSON.stringify({ time: Math.floor((NOW - 30 * 60_000) / 1000) }) };
      if (path === '/bare') return { status: 200, body: `${iso(NOW - 10 * 60_000)}\n` };
      if (path === '/epoch') return { status: 200, body: String(Math.floor((NOW - 3 * HOUR) / 1000)) };
      if (path === '/millis') return { status: 200, body: String(NOW - HOUR) };
      if (path === '/error') return { status: 500, body: 'boom' };
      if (path === '/moved') return { status: 302, body: '' };
      if (path === '/hang') return 'hang';
      if (path === '/stall') return 'stall';
      return { status: 200, body: '<html>Login</html>' };
    });
  });
  afterAll(() => server.close());

  it('warns when the timestamp is 2 h old against maxAge 1h, and reads each documented format', async () => {
    const stale = await read({ name: 'offsite', maxAge: '1h', http: `${server.base}/json` });
    expect(stale.reading).toMatchObject({ status: 'warn', values: { age_seconds: 7200 } });
    expect(stale.line).toBe(`${iso(NOW - 2 * HOUR)} · 2h old · newest backup 2h old (max 1h)`);
    expect((await read({ name: 't', maxAge: '1h', http: `${server.base}/time` })).reading).toMatchObject({ status: 'ok', values: { age_seconds: 1800 } });
    expect((await read({ name: 'b', maxAge: '1h', http: `${server.base}/bare` })).reading).toMatchObject({ status: 'ok', values: { age_seconds: 600 } });
    expect((await read({ name: 'e', maxAge: '4h', http: `${server.base}/epoch` })).reading).toMatchObject({ status: 'ok', values: { age_seconds: 3 * 3600 } });
  });

  it('fails on an HTTP error, a redirect, a body that is not a timestamp, or epoch milliseconds', async () => {
    const error = await read({ name: 'x', maxAge: '1h', http: `${server.base}/error` });
    expect([error.reading.status, error.line]).toEqual(['fail', `GET ${server.base}/error answered HTTP 500`]);
    expect((await read({ name: 'x', maxAge: '1h', http: `${server.base}/moved` })).line).toBe(`GET ${server.base}/moved answered HTTP 302 (redirects are not followed)`);
    const garbage = await read({ name: 'x', maxAge: '1h', http: `${server.base}/login` });
    expect([garbage.reading.status, garbage.line]).toEqual([
      'fail',
      `GET ${server.base}/login: the body is not a timestamp (expected {"timestamp": …}, {"time": …} or a bare ISO-8601 time with a zone or epoch seconds)`,
    ]);
    expect((await read({ name: 'x', maxAge: '1h', http: `${server.base}/millis` })).line).toMatch(/the timestamp \+?\d{5,}.* is in the future \(epoch milliseconds where seconds are expected\?\)$/);
  });

  it('abandons the request itself at its timeout, before any answer or in the middle of the body', async () => {
    // The reading's own deadline bounds /health; this one also closes the connection, which would
    // otherwise stay open (one more per /health) for as long as the server keeps it.
    for (const [path, when] of [['/hang', 'failed'], ['/stall', 'failed reading the body']]) {
      const start = performance.now();
      const outcome = await Promise.race([
        measureBackupUrl(`${server.base}${path}`, 300, NOW).then(
          () => 'measured',
          (err: unknown) => (err instanceof Error ? err.message : String(err)),
        ),
        new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 3 s'), 3000).unref()),
      ]);
      expect(outcome).toBe(`GET ${server.base}${path} ${when}: timed out`);
      expect(performance.now() - start).toBeLessThan(1500);
    }
  });

  it('gives up on a server that never answers within the probe timeout', async () => {
    const start = performance.now();
    const hung = await read({ name: 'slow', maxAge: '1h', http: `${server.base}/hang` }, 300);
    const took = performance.now() - start;
    expect(hung.reading.status).toBe('fail');
    expect(hung.line).toMatch(/^(GET http:\/\/127\.0\.0\.1:\d+\/hang failed: timed out|slow did not answer within 300 ms)$/);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1500);
  });
});

describe('WAL archiving (pg_stat_archiver)', () => {
  it('fails on the test Postgres, which archives nothing: "no WAL archived yet", with archive_mode', async () => {
    const { rows } = await pool.query<{ mode: string; archived: string }>(`SELECT current_setting('archive_mode') AS mode, archived_count::text AS archived FROM pg_stat_archiver`);
    expect(rows[0]).toMatchObject({ archived: '0' });
    const { reading, line } = await read({ name: 'wal', maxAge: '15m', archiver: true }, 1000, pool);
    expect(reading.status).toBe('fail');
    expect(line).toMatch(new RegExp(`^no WAL archived yet( since the statistics were reset at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC)? \\(archive_mode is ${rows[0]?.mode}\\)$`));
  });

  it('is unavailable, not attempted, when Vigil has no database to inspect', () => {
    const [b] = backupsFrom([{ name: 'wal', maxAge: '15m', archiver: true }]);
    if (!b) throw new Error('no backup parsed');
    expect(backupTarget(b, sources([b], null))).toEqual({ name: 'wal', unavailable: 'DATABASE_URL is not set' });
  });
});
