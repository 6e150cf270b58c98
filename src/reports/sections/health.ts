import { formatDuration } from '../../core/format.ts';
import type { EvaluatedReading } from '../../probes/reading.ts';
import { MAX_ROWS, moreText, type ReportSection } from '../section.ts';

const why = (c: EvaluatedReading) => c.error ?? c.breaches.map((b) => b.reason).join('; ');

/** Health now: the overall status and every check that is not ok (what /health would say). */
export function healthSection(): ReportSection {
  return {
    id: 'health',
    async collect({ health }) {
      const snap = await health();
      const bad = snap.checks.filter((c) => c.status === 'warn' || c.status === 'fail');
      const data = {
        status: snap.status,
        checks: snap.checks.length,
        problems: bad.map((c) => ({ kind: c.kind, name: c.name, status: c.status, why: why(c) })),
      };
      const text = bad.length === 0 ? `All ${snap.checks.length} checks pass.` : `${bad.length} of ${snap.checks.length} checks need a look.`;
      const more = moreText(bad.length, Math.min(bad.length, MAX_ROWS), 'checks');
      return {
        sections: [
          {
            heading: `Health now: ${snap.status === 'ok' ? 'healthy' : snap.status === 'warn' ? 'degraded' : 'unhealthy'}`,
            status: snap.status,
            text: [text, more].filter(Boolean).join(' '),
            ...(bad.length > 0
              ? { table: { columns: ['check', 'target', 'why'], rows: bad.slice(0, MAX_ROWS).map((c) => [c.kind, c.name, why(c)]), rowStatus: bad.slice(0, MAX_ROWS).map((c) => c.status) } }
              : {}),
          },
        ],
        data,
      };
    },
  };
}

/** Backup freshness, where backups are configured (probes.backups): the newest one's age per backup. */
export function backupsSection(): ReportSection {
  return {
    id: 'backups',
    async collect({ health }) {
      const backups = (await health()).checks.filter((c) => c.kind === 'backup');
      const data = backups.map((b) => ({ name: b.name, status: b.status, ageSeconds: b.values.age_seconds ?? null, ...(b.status === 'ok' ? {} : { why: why(b) }) }));
      if (backups.length === 0) return { sections: [], data };
      return {
        sections: [
          {
            heading: 'Backups',
            status: backups.some((b) => b.status === 'fail') ? 'fail' : backups.some((b) => b.status === 'warn') ? 'warn' : 'ok',
            table: {
              columns: ['backup', 'newest', 'status'],
              rows: backups.slice(0, MAX_ROWS).map((b) => [b.name, b.values.age_seconds === undefined ? '–' : `${formatDuration(b.values.age_seconds)} old`, b.status === 'ok' ? 'fresh' : why(b)]),
              rowStatus: backups.slice(0, MAX_ROWS).map((b) => b.status),
            },
          },
        ],
        data,
      };
    },
  };
}
