import { describe, expect, it } from 'vitest';
import type { HealthService } from '../../../src/probes/health.ts';
import { buildReport } from '../../../src/reports/build.ts';
import type { ReportSection } from '../../../src/reports/section.ts';

const health: HealthService = {
  check: async () => ({ status: 'ok', durationMs: 1, checkedAt: new Date(0), checks: [] }),
  recent: async () => ({ status: 'ok', durationMs: 1, checkedAt: new Date(0), checks: [] }),
};
const END = Date.parse('2026-12-01T09:00:00Z');

describe('a report', () => {
  it('puts the sections together in order, each figure under its id, and takes a provider added later (the SLO seam)', async () => {
    const slo: ReportSection = {
      id: 'slos',
      collect: async ({ window }) => ({ sections: [{ heading: 'Error budgets', status: 'warn', text: `over ${(window.end - window.start) / 1000} s` }], data: { checkout: { budgetLeft: 0.2 } } }),
    };
    const broken: ReportSection = {
      id: 'queues',
      collect: async () => {
        throw new Error('redis (tick) timed out after 2000 ms');
      },
    };
    const { reply } = await buildReport({ name: 'daily', window: { start: END - 86_400_000, end: END }, previous: null, targets: {}, sections: [broken, slo], health });
    expect(reply.title).toBe('Report daily · last 1d');
    expect(reply.summary).toBe('From 2026-11-30 09:00 to 2026-12-01 09:00 UTC.');
    expect(reply.status).toBe('warn');
    expect(reply.sections?.map((s) => [s.heading, s.text])).toEqual([
      ['queues: not available', 'could not be read: redis (tick) timed out after 2000 ms'],
      ['Error budgets', 'over 86400 s'],
    ]);
    expect(reply.data).toEqual({
      report: 'daily',
      window: { start: '2026-11-30T09:00:00.000Z', end: '2026-12-01T09:00:00.000Z', seconds: 86_400 },
      previousReport: null,
      queues: { error: 'could not be read: redis (tick) timed out after 2000 ms' },
      slos: { checkout: { budgetLeft: 0.2 } },
    });
  });
});
