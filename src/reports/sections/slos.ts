import type { Infrastructure } from '../../infrastructure.ts';
import { MAX_ROWS, moreText, type ReportSection } from '../section.ts';
import { budgetText, burnNow, percent, SLO_STATUS } from '../slo/slo-format.ts';
import { sloReader, type SloStatus } from '../slo/slo-status.ts';

/**
 * Each SLO's error budget now, in every report, when `slos:` is configured: the same figures as
 * /slo (compliance, budget left, burn rate), read from Prometheus when the report is built.
 * Without PROMETHEUS_URL, or with Prometheus not answering, the part says so in words.
 */
export function sloReportSections(infra: Infrastructure): ReportSection[] {
  const slos = infra.config.file.slos ?? [];
  if (slos.length === 0) return [];
  const { read, missing } = sloReader(slos, infra.config.env.PROMETHEUS_URL);
  return [sloSection(read, missing)];
}

export function sloSection(read: (() => Promise<SloStatus[]>) | null, missing: string | null): ReportSection {
  return {
    id: 'slos',
    async collect() {
      if (!read) return { sections: [{ heading: 'Error budgets: not available', status: 'warn', text: `SLO figures come from Prometheus, and ${missing ?? 'it is not configured'}.` }], data: { error: missing } };
      const statuses = await read();
      const unreachable = statuses.find((s) => s.unreachable);
      if (unreachable) {
        const why = unreachable.error ?? 'Prometheus did not answer';
        return { sections: [{ heading: 'Error budgets: not available', status: 'warn', text: `${why}: no SLO figures for this report.` }], data: { error: why } };
      }
      const shown = statuses.slice(0, MAX_ROWS);
      const exhausted = statuses.filter((s) => s.status === 'exhausted').map((s) => s.name);
      return {
        sections: [
          {
            heading: 'Error budgets',
            status: shown.some((s) => SLO_STATUS[s.status] === 'fail') ? 'fail' : shown.some((s) => SLO_STATUS[s.status] === 'warn') ? 'warn' : 'ok',
            text: [exhausted.length > 0 ? `Budget exhausted: ${exhausted.join(', ')}.` : 'No SLO has spent its error budget.', moreText(statuses.length, shown.length, 'SLOs')].filter(Boolean).join(' '),
            table: {
              columns: ['slo', 'objective', 'compliance', 'budget left', 'burn rate now', 'status'],
              rows: shown.map((s) => [s.name, `${s.objective} % / ${s.window}`, percent(s.compliance), budgetText(s.budgetRemaining), burnNow(s), s.status]),
              rowStatus: shown.map((s) => SLO_STATUS[s.status]),
            },
          },
        ],
        data: statuses.map((s) => ({ name: s.name, objective: s.objective, window: s.window, errorRatio: s.errorRatio, compliance: s.compliance, budgetRemaining: s.budgetRemaining, status: s.status, error: s.error })),
      };
    },
  };
}
