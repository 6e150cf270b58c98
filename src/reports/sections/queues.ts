import type { QueueInspector } from '../../probes/queue-inspector.ts';
import { MAX_ROWS, moreText, type Baseline, type ReportSection } from '../section.ts';

/** Queues a baseline remembers at most: enough for any real deployment, bounded for the row. */
const BASELINE_QUEUES = 2000;

interface QueueChange {
  name: string;
  waiting: number;
  failed: number;
  waitingGrowth: number;
  failedGrowth: number;
}

/**
 * BullMQ queues that grew or failed most since the previous report of this name (waiting and
 * failed counts then and now); the first report compares with nothing and ranks by counts.
 */
export function queuesSection(queues: QueueInspector | null): ReportSection {
  return {
    id: 'queues',
    async collect({ previous }) {
      if (!queues) return { sections: [], data: null };
      const names = await queues.discover();
      const stats = await queues.stats(names);
      const before = previous?.baseline.queues ?? {};
      const changes: QueueChange[] = [...stats].map(([name, s]) => ({
        name,
        waiting: s.waiting,
        failed: s.failed,
        waitingGrowth: s.waiting - (before[name]?.waiting ?? 0),
        failedGrowth: s.failed - (before[name]?.failed ?? 0),
      }));
      const baseline: Baseline = { queues: Object.fromEntries(changes.slice(0, BASELINE_QUEUES).map((c) => [c.name, { waiting: c.waiting, failed: c.failed }])) };
      const moved = changes.filter((c) => c.failedGrowth > 0 || c.waitingGrowth > 0).sort((a, b) => b.failedGrowth - a.failedGrowth || b.waitingGrowth - a.waitingGrowth || a.name.localeCompare(b.name));
      const since = previous ? 'since the previous report' : 'now (no earlier report to compare with)';
      const data = { queues: changes.length, comparedWith: previous ? new Date(previous.tickAt).toISOString() : null, grew: moved.slice(0, MAX_ROWS), grewTotal: moved.length };
      if (moved.length === 0) return { sections: [{ heading: 'Queues', status: 'ok', text: `${changes.length} queue(s); none grew or failed ${since}.` }], data, baseline };
      const shown = moved.slice(0, MAX_ROWS);
      const sign = (n: number) => (n > 0 ? `+${n}` : String(n));
      return {
        sections: [
          {
            heading: `Queues: ${moved.length} grew or failed ${previous ? 'since the previous report' : ''}`.trim(),
            status: moved.some((c) => c.failedGrowth > 0) ? 'warn' : 'info',
            text: [`Failed and waiting jobs ${since}.`, moreText(moved.length, shown.length, 'queues')].filter(Boolean).join(' '),
            table: {
              columns: ['queue', 'failed', 'change', 'waiting', 'change'],
              rows: shown.map((c) => [c.name, String(c.failed), sign(c.failedGrowth), String(c.waiting), sign(c.waitingGrowth)]),
              rowStatus: shown.map((c) => (c.failedGrowth > 0 ? 'warn' : 'info')),
            },
          },
        ],
        data,
        baseline,
      };
    },
  };
}
