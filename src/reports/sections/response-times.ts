import { compareSeverities } from '../../alerts/severities.ts';
import { duration } from '../../alerts/group.ts';
import type { Queryable } from '../../db/queryable.ts';
import type { Status } from '../../core/reply.ts';
import type { ResponseTargets } from '../report-config.ts';
import { seconds, type ReportSection } from '../section.ts';
import { responseTimes, type ResponseRow } from './alert-queries.ts';

const show = (s: number | null) => (s === null ? '–' : duration(s * 1000));

/** Over target when the mean exceeds it; no target or no figure is never over. */
function over(mean: number | null, targetMs: number | undefined): boolean {
  return mean !== null && targetMs !== undefined && mean * 1000 > targetMs;
}

function targetFor(targets: ResponseTargets, severity: string) {
  return targets[severity] ?? targets.default ?? {};
}

/**
 * MTTA and MTTR per severity over the groups that fired in the window, against the targets:
 * MTTA is acknowledged − fired (acknowledged groups), MTTR resolved − fired (resolved groups).
 */
export function responseTimesSection(db: () => Promise<Queryable>): ReportSection {
  return {
    id: 'responseTimes',
    async collect({ window, targets }) {
      const rows = (await responseTimes(await db(), window)).sort((a, b) => compareSeverities(a.severity, b.severity));
      const data = Object.fromEntries(rows.map((r) => [r.severity, rowData(r, targets)]));
      if (rows.length === 0) return { sections: [], data };
      const status = (r: ResponseRow): Status => {
        const t = targetFor(targets, r.severity);
        return over(r.mttaSeconds, t.ackMs) || over(r.mttrSeconds, t.resolveMs) ? 'warn' : 'ok';
      };
      const statuses = rows.map(status);
      return {
        sections: [
          {
            heading: 'Response times (MTTA, MTTR)',
            status: statuses.includes('warn') ? 'warn' : 'ok',
            text: 'Mean time to acknowledge and to resolve the groups that fired in the window, against the targets.',
            table: {
              columns: ['severity', 'groups', 'MTTA', 'target', 'MTTR', 'target'],
              rows: rows.map((r) => {
                const t = targetFor(targets, r.severity);
                return [r.severity, String(r.groups), `${show(r.mttaSeconds)} (${r.acked} acked)`, t.ackMs ? duration(t.ackMs) : '–', `${show(r.mttrSeconds)} (${r.resolved} resolved)`, t.resolveMs ? duration(t.resolveMs) : '–'];
              }),
              rowStatus: statuses,
            },
          },
        ],
        data,
      };
    },
  };
}

function rowData(r: ResponseRow, targets: ResponseTargets) {
  const t = targetFor(targets, r.severity);
  return {
    groups: r.groups,
    acknowledged: r.acked,
    resolved: r.resolved,
    mttaSeconds: seconds(r.mttaSeconds),
    mttrSeconds: seconds(r.mttrSeconds),
    maxAckSeconds: seconds(r.maxAckSeconds),
    maxResolveSeconds: seconds(r.maxResolveSeconds),
    ackTargetSeconds: t.ackMs === undefined ? null : t.ackMs / 1000,
    resolveTargetSeconds: t.resolveMs === undefined ? null : t.resolveMs / 1000,
    mttaOverTarget: over(r.mttaSeconds, t.ackMs),
    mttrOverTarget: over(r.mttrSeconds, t.resolveMs),
  };
}
