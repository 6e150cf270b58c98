import type { BackupSpec } from '../config/backup-config.ts';
import type { Field } from '../core/reply.ts';
import { formatBytes } from '../core/format.ts';
import { formatAge } from './backup-age.ts';
import { measureArchiver } from './backup-archiver.ts';
import { measureBackupDir } from './backup-dir.ts';
import { measureBackupUrl } from './backup-http.ts';
import type { Measurement, Reading } from './reading.ts';
import { shown, type PlannedTarget, type ProbeRegistration, type ProbeSources } from './registration.ts';
import type { ThresholdRule } from './thresholds.ts';

/** A configured backup with the probe budget its HTTP source's request gets. */
export interface BackupTarget extends BackupSpec {
  timeoutMs: number;
}

/**
 * Stale (at `maxAge` or older) warns: the last backup still exists, and a late nightly job is worth
 * a look, not a page. Archiving that fails right now fails, as does finding no backup at all (the
 * sources throw: the reading is down).
 */
export function backupRules(maxAgeMs: number): ThresholdRule[] {
  return [
    { measure: 'age_seconds', warnAt: Math.ceil(maxAgeMs / 1000), reason: 'newest backup {age} old (max {max_age})' },
    { measure: 'failing', failAt: 1, reason: 'WAL archiving is failing: {last_failed_wal} failed {failed_ago} ago, the last success was {age} ago' },
  ];
}

/** The measurement with what people read beside the numbers: the source, the age and limit as text. */
export function withAges(m: Measurement, b: BackupTarget): Measurement {
  const age = m.values.age_seconds;
  return {
    values: m.values,
    facts: { ...m.facts, source: b.source.kind, max_age: formatAge(b.maxAgeMs / 1000), ...(age === undefined ? {} : { age: formatAge(age) }) },
  };
}

export function backupTarget(b: BackupTarget, sources: ProbeSources): PlannedTarget {
  const rules = backupRules(b.maxAgeMs);
  const now = sources.now ?? Date.now;
  const { source } = b;
  switch (source.kind) {
    case 'dir':
      return { name: b.name, rules, measure: async () => withAges(await measureBackupDir(source.dir, source.pattern, now()), b) };
    case 'http':
      return { name: b.name, rules, measure: async () => withAges(await measureBackupUrl(source.url, b.timeoutMs, now()), b) };
    case 'archiver': {
      const { db } = sources;
      if (!db) return { name: b.name, unavailable: sources.missing.postgres ?? 'not configured' };
      return { name: b.name, rules, measure: async () => withAges(await measureArchiver(db), b) };
    }
  }
}

export const backupProbe: ProbeRegistration = {
  kind: 'backup',
  heading: 'Backups',
  layout: 'table',
  targets: (sources) => (sources.backups ?? []).map((b) => backupTarget(b, sources)),
  summarize: ({ values: v, facts: f }) => {
    const age = f.age ?? '?';
    if (f.source === 'dir') return `${f.file ?? '?'} · ${formatBytes(v.size_bytes ?? NaN)} · ${age} old`;
    if (f.source === 'archiver') return `${f.last_archived_wal ?? '?'} archived ${age} ago · ${shown(v.failed_count)} failed`;
    return `${f.latest ?? '?'} · ${age} old`;
  },
  details: (reading) => [...sourceFields(reading), { label: 'Age', value: `${reading.facts.age ?? '?'} (max ${reading.facts.max_age ?? '?'})` }],
};

function sourceFields({ values: v, facts: f }: Reading): Field[] {
  if (f.source === 'dir') {
    return [
      { label: 'Directory', value: `${f.dir ?? '?'} (${f.pattern ?? '*'})` },
      { label: 'Newest', value: `${f.file ?? '?'}, ${formatBytes(v.size_bytes ?? NaN)}` },
      { label: 'Matching files', value: shown(v.files) },
    ];
  }
  if (f.source === 'archiver') {
    const lastFailure = f.last_failed_wal === undefined ? '' : `, the last ${f.last_failed_wal} ${f.failed_ago ?? '?'} ago`;
    return [
      { label: 'Source', value: `pg_stat_archiver (archive_mode ${f.archive_mode ?? '?'})` },
      { label: 'Last archived', value: f.last_archived_wal ?? '?' },
      { label: 'Failed', value: `${shown(v.failed_count)} since the statistics were reset${lastFailure}` },
    ];
  }
  return [
    { label: 'URL', value: f.url ?? '?' },
    { label: 'Latest', value: f.latest ?? '?' },
  ];
}
