import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/embedded/free-port.ts';
import { backupTarget } from '../../src/probes/backup-probe.ts';
import { readingLine } from '../../src/probes/probe-list.ts';
import { readTarget } from '../../src/probes/read-target.ts';
import { isUnavailable } from '../../src/probes/registration.ts';
import { backupsFrom } from '../support/backup-fixtures.ts';
import { waitFor } from '../support/wait.ts';

/**
 * WAL archiving that works, then fails, then works again, on a PostgreSQL of this file's own with
 * `archive_mode = on` (the shared test server archives nothing, and turning it on needs a restart).
 * `archive_command` is `true` (archived) or `false` (failed), switched with ALTER SYSTEM and a
 * reload, and pg_switch_wal() hands the archiver a segment.
 */
const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;
let base = '';
let server: ChildProcess | undefined;
let pool: pg.Pool;

/** PostgreSQL refuses to run as root: then initdb and postgres run as the `postgres` OS user. */
async function postgresUser(): Promise<{ uid: number; gid: number } | null> {
  if (!asRoot) return null;
  const [u, g] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(u.stdout), gid: Number(g.stdout) };
}

beforeAll(async () => {
  const user = await postgresUser();
  base = mkdtempSync(join(tmpdir(), 'vigil-archiver-'));
  if (user) chownSync(base, user.uid, user.gid);
  const data = join(base, 'data');
  const as = user ?? {};
  await run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'], as);
  const port = await freePort();
  server = spawn(
    'postgres',
    ['-D', data, '-p', String(port), '-k', base, '-c', 'listen_addresses=127.0.0.1', '-c', 'archive_mode=on', '-c', 'fsync=off'],
    // archive_command is left to ALTER SYSTEM: a command-line setting would override it.
    { ...as, stdio: 'ignore' },
  );
  pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`, max: 2 });
  // This server is stopped at the end: an idle client told so ("terminating connection due to
  // administrator command") must not become an uncaught exception of the whole run.
  pool.on('error', () => undefined);
  await waitFor(() => pool.query('SELECT 1').then(() => true, () => false), { timeoutMs: 30_000, what: 'the archiving PostgreSQL' });
}, 90_000);

afterAll(async () => {
  await pool?.end();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    server.kill('SIGINT');
    await exited;
  }
  if (base) rmSync(base, { recursive: true, force: true });
});

/**
 * Point archive_command at `command`, then keep handing the archiver fresh segments until `done`:
 * the reload reaches the archiver a moment later, so the first segment may still meet the old command.
 */
async function archiveWith(command: 'true' | 'false', done: (c: { archived: number; failed: number }) => boolean, what: string): Promise<void> {
  await pool.query(`ALTER SYSTEM SET archive_command = '${command}'`);
  await pool.query('SELECT pg_reload_conf()');
  await pool.query('CREATE TABLE IF NOT EXISTS wal_filler (n int)');
  await waitFor(
    async () => {
      if (done(await counts())) return true;
      await pool.query('INSERT INTO wal_filler SELECT generate_series(1, 100)');
      await pool.query('SELECT pg_switch_wal()');
      return false;
    },
    { timeoutMs: 30_000, intervalMs: 500, what },
  );
}

async function counts(): Promise<{ archived: number; failed: number }> {
  const { rows } = await pool.query<{ archived: string; failed: string }>('SELECT archived_count AS archived, failed_count AS failed FROM pg_stat_archiver');
  return { archived: Number(rows[0]?.archived), failed: Number(rows[0]?.failed) };
}

async function readArchiver() {
  const [b] = backupsFrom([{ name: 'wal', maxAge: '15m', archiver: true }]);
  if (!b) throw new Error('no backup parsed');
  const planned = backupTarget(b, { db: pool, redis: null, queues: null, thresholdsFor: () => ({ waiting: 1, failed: 1 }), httpTargets: [], missing: {} });
  if (isUnavailable(planned)) throw new Error(planned.unavailable);
  const reading = await readTarget('backup', planned, 2000);
  return { reading, line: readingLine(reading) };
}

describe('the archiver source on a server that archives', () => {
  it('fails while nothing was ever archived, is ok once a segment is, fails while the latest attempt failed, and is ok again after', async () => {
    // archive_command failing from the start: the worst case, archiving configured but never working.
    await archiveWith('false', (c) => c.failed >= 1, 'a first archiving attempt to fail');
    const never = await readArchiver();
    expect(never.reading.status).toBe('fail');
    expect(never.line).toMatch(/^no WAL archived yet since the statistics were reset at [\d-]+ [\d:]+ UTC \(archive_mode is on; \d+ attempts? failed, the last \d+s ago \([0-9A-F]{24}\)\)$/);

    await archiveWith('true', (c) => c.archived >= 1, 'a segment archived');
    const ok = await readArchiver();
    expect(ok.reading).toMatchObject({ status: 'ok', values: { failing: 0 } });
    // The early failures stay counted (since the statistics were reset), history rather than a problem.
    expect(ok.reading.values.failed_count).toBeGreaterThanOrEqual(1);
    expect(ok.reading.values.age_seconds).toBeLessThan(60);
    expect(ok.line).toMatch(/^[0-9A-F]{24} archived (\d+s|\d+m) ago · \d+ failed$/);

    const failedBefore = (await counts()).failed;
    await archiveWith('false', (c) => c.failed > failedBefore, 'an archiving attempt to fail');
    const failing = await readArchiver();
    expect(failing.reading.status).toBe('fail');
    expect(failing.reading.values.failing).toBe(1);
    expect(failing.line).toMatch(/· WAL archiving is failing: [0-9A-F]{24} failed \d+s ago, the last success was (\d+s|\d+m) ago$/);

    // The archiver retries the same segment once archive_command works again.
    const archivedBefore = (await counts()).archived;
    await archiveWith('true', (c) => c.archived > archivedBefore, 'archiving to recover');
    expect((await readArchiver()).reading).toMatchObject({ status: 'ok', values: { failing: 0 } });
  }, 120_000);
});
