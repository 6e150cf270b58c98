import { formatDuration } from '../../core/format.ts';
import { STATE_SCHEMA } from '../../db/migrate.ts';
import { selectRows, type Queryable } from '../../db/queryable.ts';
import { MAX_ROWS, moreText, seconds, type ReportSection } from '../section.ts';

const INCIDENTS = `${STATE_SCHEMA}.incidents`;

interface IncidentRow {
  id: string;
  title: string;
  severity: string;
  status: 'open' | 'resolved';
  channel_name: string;
  declared_at: Date;
  resolved_at: Date | null;
  /** resolved − declared, seconds; null while open. */
  duration_s: number | null;
  total: number;
}

interface Totals {
  declared: number;
  resolved: number;
  open: number;
  /** Mean resolved − declared over the incidents resolved in the window, seconds. */
  mean_resolve_s: number | null;
}

/**
 * Incidents of the window: declared or resolved in it, and any still open, most severe first;
 * counts and the mean time from declaration to resolution (docs/incidents.md has the per-incident
 * figures from the first alert). Read from `vigil.incidents`.
 */
export function incidentsSection(db: () => Promise<Queryable>): ReportSection {
  return {
    id: 'incidents',
    async collect({ window }) {
      const pool = await db();
      const range = [new Date(window.start), new Date(window.end)];
      const [totals] = await selectRows<Totals>(
        pool,
        `SELECT count(*) FILTER (WHERE declared_at >= $1 AND declared_at < $2)::int AS declared,
                count(*) FILTER (WHERE resolved_at >= $1 AND resolved_at < $2)::int AS resolved,
                count(*) FILTER (WHERE status = 'open')::int AS open,
                avg(extract(epoch FROM resolved_at - declared_at)) FILTER (WHERE resolved_at >= $1 AND resolved_at < $2)::float8 AS mean_resolve_s
           FROM ${INCIDENTS}`,
        range,
      );
      const rows = await selectRows<IncidentRow>(
        pool,
        `SELECT id::text, title, severity, status, channel_name, declared_at, resolved_at,
                extract(epoch FROM resolved_at - declared_at)::float8 AS duration_s, count(*) OVER ()::int AS total
           FROM ${INCIDENTS}
          WHERE status = 'open' OR (declared_at >= $1 AND declared_at < $2) OR (resolved_at >= $1 AND resolved_at < $2)
          ORDER BY status = 'open' DESC, severity, declared_at LIMIT $3`,
        [...range, MAX_ROWS],
      );
      const t = totals ?? { declared: 0, resolved: 0, open: 0, mean_resolve_s: null };
      const data = {
        declared: t.declared,
        resolved: t.resolved,
        open: t.open,
        meanTimeToResolveSeconds: seconds(t.mean_resolve_s),
        incidents: rows.map((r) => ({ id: Number(r.id), title: r.title, severity: r.severity, status: r.status, channel: r.channel_name, declaredAt: r.declared_at.toISOString(), resolvedAt: r.resolved_at?.toISOString() ?? null, timeToResolveSeconds: seconds(r.duration_s) })),
      };
      if (rows.length === 0) return { sections: [{ heading: 'Incidents', status: 'ok', text: 'No incident was declared, resolved or open in this window.' }], data };
      const mean = t.mean_resolve_s === null ? '' : ` Mean time from declaration to resolution: ${formatDuration(t.mean_resolve_s)}.`;
      return {
        sections: [
          {
            heading: 'Incidents',
            status: t.open > 0 ? 'warn' : 'ok',
            text: [`${t.declared} declared, ${t.resolved} resolved, ${t.open} open now.${mean}`, moreText(rows[0]?.total ?? 0, rows.length, 'incidents')].filter(Boolean).join(' '),
            table: {
              columns: ['incident', 'severity', 'status', 'declared', 'resolved after', 'channel'],
              rows: rows.map((r) => [`#${r.id} ${r.title}`, r.severity, r.status, r.declared_at.toISOString().slice(0, 16).replace('T', ' '), r.duration_s === null ? '–' : formatDuration(r.duration_s), `#${r.channel_name}`]),
              rowStatus: rows.map((r) => (r.status === 'open' ? 'warn' : 'ok')),
            },
          },
        ],
        data,
      };
    },
  };
}
