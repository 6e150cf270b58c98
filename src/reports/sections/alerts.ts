import { compareSeverities } from '../../alerts/severities.ts';
import { duration } from '../../alerts/group.ts';
import type { Queryable } from '../../db/queryable.ts';
import type { Section } from '../../core/reply.ts';
import { MAX_ROWS, moreText, seconds, type ReportSection } from '../section.ts';
import { countsBySeverity, noisiestGroups, unacknowledgedGroups, type GroupRow } from './alert-queries.ts';

const after = (s: number | null) => (s === null ? '–' : duration(s * 1000));

/** A group as --json shows it: times in seconds, as numbers. */
function groupData(g: GroupRow) {
  return {
    group: g.groupId,
    alertname: g.alertname,
    severity: g.severity,
    status: g.status,
    firedAt: g.firedAt.toISOString(),
    notifications: g.notifications,
    flaps: g.flaps,
    ackedBy: g.ackedBy,
    ackSeconds: seconds(g.ackSeconds),
    resolveSeconds: seconds(g.resolveSeconds),
  };
}

/**
 * Alerts of the window: groups by severity, the noisiest groups (notifications received, flaps)
 * with how long each took to acknowledge and resolve, and the groups nobody acknowledged.
 */
export function alertsSection(db: () => Promise<Queryable>): ReportSection {
  return {
    id: 'alerts',
    async collect({ window }) {
      const pool = await db();
      const counts = (await countsBySeverity(pool, window)).sort((a, b) => compareSeverities(a.severity, b.severity));
      const noisy = await noisiestGroups(pool, window, MAX_ROWS);
      const unacked = await unacknowledgedGroups(pool, window, MAX_ROWS);
      const total = counts.reduce((n, c) => n + c.fired, 0);
      const flapping = counts.reduce((n, c) => n + c.flapping, 0);
      const sections: Section[] = [];
      if (total === 0) {
        sections.push({ heading: 'Alerts', status: 'ok', text: 'No alert group fired in this window.' });
      } else {
        const more = moreText(noisy[0]?.total ?? 0, noisy.length, 'groups');
        sections.push({
          heading: `Alerts: ${total} group(s) fired${flapping > 0 ? `, ${flapping} flapping` : ''}`,
          status: counts.some((c) => c.firingNow > 0) ? 'warn' : 'info',
          fields: counts.slice(0, 10).map((c) => ({ label: c.severity, value: `${c.fired} fired · ${c.firingNow} firing now · ${c.unacked} not acknowledged` })),
          text: ['Noisiest first: notifications received in the window, flaps (fired again within the cooldown), time to acknowledge and to resolve.', more].filter(Boolean).join(' '),
          table: {
            columns: ['severity', 'alert', 'notifications', 'flaps', 'acked after', 'resolved after'],
            rows: noisy.map((g) => [g.severity, g.alertname, String(g.notifications), String(g.flaps), after(g.ackSeconds), g.status === 'resolved' ? after(g.resolveSeconds) : 'firing']),
            rowStatus: noisy.map((g) => (g.status === 'firing' ? 'warn' : 'ok')),
          },
        });
      }
      const unackedTotal = unacked[0]?.total ?? 0;
      if (unackedTotal > 0) {
        sections.push({
          heading: `Not acknowledged: ${unackedTotal} group(s)`,
          status: unacked.some((g) => g.status === 'firing') ? 'warn' : 'info',
          ...(moreText(unackedTotal, unacked.length, 'groups') ? { text: moreText(unackedTotal, unacked.length, 'groups') } : {}),
          table: {
            columns: ['severity', 'alert', 'fired', 'now'],
            rows: unacked.map((g) => [g.severity, g.alertname, g.firedAt.toISOString().slice(0, 16).replace('T', ' '), g.status === 'firing' ? 'firing' : `resolved after ${after(g.resolveSeconds)}`]),
            rowStatus: unacked.map((g) => (g.status === 'firing' ? 'warn' : 'info')),
          },
        });
      }
      return {
        sections,
        data: {
          groups: total,
          flapping,
          bySeverity: Object.fromEntries(counts.map((c) => [c.severity, { fired: c.fired, firingNow: c.firingNow, unacknowledged: c.unacked, flapping: c.flapping }])),
          noisiest: noisy.map(groupData),
          unacknowledged: { total: unackedTotal, groups: unacked.map(groupData) },
        },
      };
    },
  };
}
