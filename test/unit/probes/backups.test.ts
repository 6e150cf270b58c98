import { describe, expect, it } from 'vitest';
import { formatAge } from '../../../src/probes/backup-age.ts';
import { archiverMeasurement, type ArchiverRow } from '../../../src/probes/backup-archiver.ts';
import { globMatcher } from '../../../src/probes/backup-dir.ts';
import { stampOf } from '../../../src/probes/backup-http.ts';
import { backupRules, withAges, type BackupTarget } from '../../../src/probes/backup-probe.ts';
import { evaluate } from '../../../src/probes/thresholds.ts';

/**
 * The backup probe's pure parts: file-name globs, the timestamp formats a URL may answer, what a
 * pg_stat_archiver row means, and the one place ages become a status. The sources themselves are
 * exercised against real directories, a real HTTP server and real PostgreSQL in test/integration.
 */
describe('globMatcher', () => {
  it('matches whole file names with * and ? and nothing else special', () => {
    const m = globMatcher('app-*.sql.gz');
    expect(['app-2026-12-06.sql.gz', 'app-.sql.gz'].every(m)).toBe(true);
    expect(['app-1.sql.gz.part', 'xapp-1.sql.gz', 'app-1.sqlxgz', 'app-1.sql'].some(m)).toBe(false);
    expect(globMatcher('db-??.dump')('db-01.dump')).toBe(true);
    expect(globMatcher('db-??.dump')('db-1.dump')).toBe(false);
    // Regex characters are literal: `+`, `(`, `[`.
    expect(globMatcher('a+b(1)[x].dump')('a+b(1)[x].dump')).toBe(true);
    expect(globMatcher('a+b.dump')('aab.dump')).toBe(false);
  });

  it('never matches a hidden file (a transfer in progress) unless the pattern starts with a dot', () => {
    expect(globMatcher('*')('.app.dump.Xy12')).toBe(false);
    expect(globMatcher('*.dump')('.app.dump')).toBe(false);
    expect(globMatcher('.*.dump')('.app.dump')).toBe(true);
    expect(globMatcher('*')('app.dump')).toBe(true);
  });
});

describe('stampOf: what a "latest backup" URL may answer', () => {
  const t = Date.parse('2026-12-06T03:00:00Z');
  it.each([
    ['{"timestamp": "2026-12-06T03:00:00Z"}', t],
    ['{"timestamp": "2026-12-06T04:00:00+01:00", "size": 12}', t],
    ['{"time": 1796526000}', 1796526000 * 1000],
    ['{"time": "2026-12-06T03:00:00.250Z"}', t + 250],
    ['2026-12-06T03:00:00Z\n', t],
    ['"2026-12-06T03:00:00Z"', t],
    ['1796526000', 1796526000 * 1000],
    ['1796526000.5', 1796526000500],
  ])('reads %s', (body, expected) => {
    expect(stampOf(body)).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['<html>Login</html>', 'HTML'],
    ['2026-12-06T03:00:00', 'a time without a zone (ambiguous)'],
    ['2026-12-06', 'a date without a time'],
    ['{"timestamp": "yesterday"}', 'words'],
    ['{"ts": 1796526000}', 'another key'],
    ['{"timestamp": -5}', 'a negative epoch'],
    ['200', 'a number too small to be a backup time (before 2000)'],
    ['"1796526000"', 'epoch seconds as a string'],
    ['[1796526000]', 'an array'],
    ['null', 'null'],
  ])('refuses %j (%s)', (body) => {
    expect(stampOf(body)).toBeNull();
  });
});

const row = (r: Partial<ArchiverRow>): ArchiverRow => ({
  archived_count: '10',
  failed_count: '0',
  last_archived_wal: '000000010000000000000010',
  last_failed_wal: null,
  archived_age_s: 120.7,
  failed_age_s: null,
  stats_reset: '2026-12-01 08:00 UTC',
  archive_mode: 'on',
  ...r,
});

describe('archiverMeasurement', () => {
  const wal: BackupTarget = { name: 'wal', maxAgeMs: 15 * 60_000, source: { kind: 'archiver' }, timeoutMs: 1000 };
  const judge = (r: ArchiverRow) => evaluate({ kind: 'backup', name: 'wal', durationMs: 1, ...withAges(archiverMeasurement(r), wal) }, backupRules(wal.maxAgeMs));

  it('is ok after a success, even with failures before it (history, counted)', () => {
    const ok = judge(row({ failed_count: '3', last_failed_wal: '00000001000000000000000E', failed_age_s: 3600 }));
    expect(ok.status).toBe('ok');
    expect(ok.values).toEqual({ age_seconds: 120, archived_count: 10, failed_count: 3, failing: 0 });
  });

  it('fails when the last attempt failed after the last success: archiving is failing now', () => {
    const r = row({ failed_count: '4', last_failed_wal: '000000010000000000000011', failed_age_s: 30, archived_age_s: 600 });
    const failing = judge(r);
    expect(failing.status).toBe('fail');
    expect(failing.breaches.map((b) => b.reason)).toEqual(['WAL archiving is failing: 000000010000000000000011 failed 30s ago, the last success was 10m ago']);
  });

  it('warns when the last archived segment is older than maxAge', () => {
    const stale = judge(row({ archived_age_s: 20 * 60 }));
    expect(stale.breaches).toEqual([{ measure: 'age_seconds', status: 'warn', reason: 'newest backup 20m old (max 15m)' }]);
  });

  it('throws "no WAL archived yet" when nothing was ever archived, with the mode and any failures', () => {
    expect(() => archiverMeasurement(row({ archived_count: '0', last_archived_wal: null, archived_age_s: null, archive_mode: 'off' }))).toThrow(
      'no WAL archived yet since the statistics were reset at 2026-12-01 08:00 UTC (archive_mode is off)',
    );
    expect(() =>
      archiverMeasurement(row({ archived_count: '0', last_archived_wal: null, archived_age_s: null, failed_count: '1', last_failed_wal: '000000010000000000000001', failed_age_s: 7200 })),
    ).toThrow('(archive_mode is on; 1 attempt failed, the last 2h ago (000000010000000000000001))');
  });
});

describe('ages and the stale threshold', () => {
  it('reads ages in hours up to three days, as maxAge is written', () => {
    expect([formatAge(45), formatAge(600), formatAge(26 * 3600), formatAge(30 * 3600 + 15 * 60), formatAge(80 * 3600)]).toEqual(['45s', '10m', '26h', '30h 15m', '3d 8h']);
  });

  it('warns from maxAge on, with how old and the limit; younger is ok', () => {
    const rules = backupRules(26 * 3_600_000);
    const at = (seconds: number) =>
      evaluate({ kind: 'backup', name: 'app-nightly', durationMs: 1, values: { age_seconds: seconds }, facts: { age: formatAge(seconds), max_age: '26h' } }, rules);
    expect(at(26 * 3600 - 1).status).toBe('ok');
    expect(at(26 * 3600).status).toBe('warn');
    expect(at(30 * 3600).breaches).toEqual([{ measure: 'age_seconds', status: 'warn', reason: 'newest backup 30h old (max 26h)' }]);
  });
});
