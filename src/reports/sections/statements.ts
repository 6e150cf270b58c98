import type { Queryable } from '../../db/queryable.ts';
import { createStatementReader, shortenQuery, statementsUnavailable, type StatementStat } from '../../probes/statements.ts';
import { MAX_ROWS, moreText, type ReportSection } from '../section.ts';

/** How many of the top statements (by total time) a report looks at and remembers. */
const TOP = 25;

/**
 * Slow statements new since the previous report of this name: the top statements by total time
 * that were not among its top ones (pg_stat_statements; Vigil's own left out, literals masked).
 */
export function statementsSection(probeDb: Queryable | null): ReportSection {
  const reader = probeDb ? createStatementReader(probeDb) : null;
  return {
    id: 'slowStatements',
    async collect({ previous }) {
      if (!reader) return { sections: [], data: null };
      let top: StatementStat[];
      try {
        top = await reader.top({ by: 'total', limit: TOP, minMeanMs: 0 });
      } catch (err) {
        const unavailable = statementsUnavailable(err);
        if (!unavailable) throw err;
        return { sections: [{ heading: 'Slow statements', status: 'info', text: `pg_stat_statements is not usable here (${unavailable.reason.replace('_', ' ')}); see /slowqueries for how to enable it.` }], data: { unavailable: unavailable.reason } };
      }
      const seen = new Set(previous?.baseline.statements ?? []);
      const fresh = top.filter((s) => !seen.has(s.queryId));
      const baseline = { statements: top.map((s) => s.queryId) };
      const data = { comparedWith: previous ? new Date(previous.tickAt).toISOString() : null, new: fresh.slice(0, MAX_ROWS).map((s) => ({ queryId: s.queryId, query: s.query, calls: s.calls, totalMs: s.totalMs, meanMs: s.meanMs })), newTotal: fresh.length };
      if (fresh.length === 0) return { sections: [{ heading: 'Slow statements', status: 'ok', text: 'No new statement among the slowest since the previous report.' }], data, baseline };
      const shown = fresh.slice(0, MAX_ROWS);
      return {
        sections: [
          {
            heading: previous ? `Slow statements new since the previous report: ${fresh.length}` : `Slowest statements (no earlier report to compare with)`,
            status: 'info',
            ...(moreText(fresh.length, shown.length, 'statements') ? { text: moreText(fresh.length, shown.length, 'statements') } : {}),
            table: {
              columns: ['statement', 'calls', 'mean', 'total'],
              rows: shown.map((s) => [shortenQuery(s.query, 120), String(s.calls), `${s.meanMs.toFixed(1)} ms`, `${(s.totalMs / 1000).toFixed(1)} s`]),
            },
          },
        ],
        data,
        baseline,
      };
    },
  };
}
