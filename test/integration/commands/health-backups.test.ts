import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthSnapshot } from '../../../src/probes/health.ts';
import { backupDirs, backupsFrom, dumpFile, HOUR, startStampServer } from '../../support/backup-fixtures.ts';
import { checksOf, commandHarness, field, NOW, PROBE_TIMEOUT_MS, REPLY_WITHIN_MS, section } from '../../support/command-harness.ts';

/**
 * Backups in /health through the real dispatcher, beside the real Postgres and Redis: dumps in
 * temp directories aged with utimes against the harness's clock (NOW), and a local HTTP server.
 */
const h = commandHarness();
const dirs = backupDirs();
let stamps: Awaited<ReturnType<typeof startStampServer>>;

beforeAll(async () => {
  await h.start();
  stamps = await startStampServer((path) => (path === '/hang' ? 'hang' : { status: 200, body: JSON.stringify({ timestamp: new Date(NOW - 10 * 60_000).toISOString() }) }));
});

afterAll(async () => {
  await stamps?.close();
  await h.stop();
  dirs.cleanup();
});

describe('/health with backups', () => {
  it('names a backup whose newest dump is 30 h old against maxAge 26h as stale: degraded, with how old', async () => {
    const dir = dirs.make();
    dumpFile(dir, 'app-2026-12-05.dump', 30 * HOUR, NOW, 4096);
    dumpFile(dir, 'app-2026-12-04.dump', 54 * HOUR, NOW);
    const { run } = h.dispatcherFor({ backups: backupsFrom([{ name: 'app-nightly', maxAge: '26h', dir, pattern: 'app-*.dump' }]) });

    const { reply } = await run('/health');
    expect(reply.status).toBe('warn');
    expect(reply.title).toBe('Health: degraded');
    expect(reply.summary).toMatch(/^Needs attention: app-nightly \(checked in/);
    const backups = section(reply, 'Backups');
    expect(backups.status).toBe('warn');
    expect(backups.table?.rows.map((r) => [r[0], r[1]])).toEqual([['app-nightly', 'app-2026-12-05.dump · 4.0 KiB · 30h old · newest backup 30h old (max 26h)']]);
    expect(checksOf(reply).get('app-nightly')).toMatchObject({ kind: 'backup', status: 'warn', values: { age_seconds: 30 * 3600, size_bytes: 4096 } });
    // Postgres and Redis are still read and fine: a stale backup degrades, it does not hide them.
    expect(checksOf(reply).get('Postgres')?.status).toBe('ok');
    expect(checksOf(reply).get('Redis')?.status).toBe('ok');

    const verbose = await run('/health', '--verbose');
    expect(field(verbose.reply, 'app-nightly', 'Age')).toBe('30h (max 26h)');
    expect(field(verbose.reply, 'app-nightly', 'Directory')).toBe(`${dir} (app-*.dump)`);
  });

  it('shows a line per backup: a fresh one ok, an empty directory and an unreadable one failing with why', async () => {
    const fresh = dirs.make();
    dumpFile(fresh, 'db.sql.gz', 3 * HOUR, NOW, 100);
    const empty = dirs.make();
    const missing = join(dirs.make(), 'not-mounted');
    const { run } = h.dispatcherFor({
      backups: backupsFrom([
        { name: 'db', maxAge: '26h', dir: fresh, pattern: '*.sql.gz' },
        { name: 'empty', maxAge: '26h', dir: empty, pattern: '*.dump' },
        { name: 'nfs', maxAge: '26h', dir: missing },
        { name: 'offsite', maxAge: '1h', http: `${stamps.base}/latest` },
      ]),
    });
    const { reply } = await run('/health');
    expect(reply.status).toBe('fail');
    expect(reply.summary).toMatch(/^Needs attention: empty, nfs \(checked in/);
    const backups = section(reply, 'Backups');
    expect(backups.table?.rows.map((r) => [r[0], r[1]])).toEqual([
      ['db', 'db.sql.gz · 100 B · 3h old'],
      ['empty', `no backup matching *.dump in ${empty}`],
      ['nfs', `cannot read backup directory ${missing}: it does not exist (ENOENT)`],
      ['offsite', `${new Date(NOW - 10 * 60_000).toISOString()} · 10m old`],
    ]);
    expect(backups.table?.rowStatus).toEqual(['ok', 'fail', 'fail', 'ok']);
  });

  it('bounds a "latest backup" URL that never answers by the probe timeout, and the other probes answer meanwhile', async () => {
    const fresh = dirs.make();
    dumpFile(fresh, 'db.dump', HOUR, NOW);
    const { run } = h.dispatcherFor({
      backups: backupsFrom(
        [
          { name: 'stuck', maxAge: '1h', http: `${stamps.base}/hang` },
          { name: 'db', maxAge: '26h', dir: fresh },
        ],
        PROBE_TIMEOUT_MS,
      ),
    });
    const start = performance.now();
    const { reply } = await run('/health');
    const took = performance.now() - start;
    expect(took).toBeLessThan(REPLY_WITHIN_MS);
    const checks = checksOf(reply);
    expect(checks.get('stuck')?.status).toBe('fail');
    expect(checks.get('stuck')?.error).toMatch(/timed out|did not answer within \d+ ms/);
    expect(checks.get('stuck')?.durationMs).toBeGreaterThanOrEqual(PROBE_TIMEOUT_MS * 0.9);
    expect(checks.get('db')?.status).toBe('ok');
    // Read side by side, not after the hung one: each finished in its own time.
    expect(checks.get('db')?.durationMs).toBeLessThan(PROBE_TIMEOUT_MS / 2);
    expect(checks.get('Postgres')?.status).toBe('ok');
    expect((reply.data as HealthSnapshot).durationMs).toBeLessThan(PROBE_TIMEOUT_MS + 1000);
  });
});
