import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';
import { AppError } from '../src/core/errors.ts';
import type { Reply, Status } from '../src/core/reply.ts';
import type { SloSpec } from '../src/reports/slo/slo-config.ts';
import { budgetText, burnNow, percent, rate, SLO_STATUS } from '../src/reports/slo/slo-format.ts';
import type { SloStatus } from '../src/reports/slo/slo-status.ts';

/** What /slo reads: the configured SLOs and their statuses from Prometheus. */
export interface SloCommandDeps {
  slos: readonly SloSpec[];
  /** Every SLO's status now; null without PROMETHEUS_URL. */
  read: (() => Promise<SloStatus[]>) | null;
  prometheusMissing: string | null;
  /** The Prometheus server as it may be shown (password masked). */
  prometheusAt: string | null;
}

export default defineCommand<{ positionals: string[] }, SloCommandDeps>({
  name: 'slo',
  summary: 'Each SLO from Prometheus: compliance over its window, error budget left, burn rate now',
  usage: '[name]',
  options: {},
  args: z.object({ positionals: z.array(z.string().max(100)).max(1, 'takes at most one SLO name') }),
  async run(args, { deps }): Promise<Reply> {
    if (deps.slos.length === 0) {
      return { title: 'SLOs', status: 'info', summary: 'No SLOs are configured. Add an `slos:` section (see docs/slos.md and manifests/vigil.example.yaml).' };
    }
    const wanted = args.positionals[0];
    if (wanted !== undefined && !deps.slos.some((s) => s.name === wanted)) {
      throw new AppError('bad_args', `No SLO named "${wanted}"; configured: ${deps.slos.map((s) => s.name).join(', ')}`);
    }
    if (!deps.read) {
      throw new AppError('dependency_unavailable', `SLO figures come from Prometheus, and ${deps.prometheusMissing ?? 'it is not configured'}. Set PROMETHEUS_URL (see docs/slos.md).`);
    }
    const statuses = (await deps.read()).filter((s) => wanted === undefined || s.name === wanted);
    return sloReply(statuses, deps.prometheusAt);
  },
});

function sloReply(statuses: SloStatus[], at: string | null): Reply {
  const unreachable = statuses.find((s) => s.unreachable);
  const rank: Record<Status, number> = { info: 0, ok: 1, warn: 2, fail: 3 };
  const status = unreachable ? 'fail' : statuses.map((s) => SLO_STATUS[s.status]).reduce<Status>((w, s) => (rank[s] > rank[w] ? s : w), 'ok');
  const exhausted = statuses.filter((s) => s.status === 'exhausted').length;
  const burning = statuses.filter((s) => s.burnRates.some((b) => b.burning === true)).length;
  const summary = unreachable
    ? `${unreachable.error ?? `Prometheus${at ? ` at ${at}` : ''} did not answer`}: no SLO figures now. Burn-rate alerts keep their state until it answers.`
    : [
        `${statuses.length} SLO${statuses.length === 1 ? '' : 's'}`,
        exhausted ? `${exhausted} with the error budget exhausted` : '',
        burning ? `${burning} burning faster than an alert allows` : '',
      ]
        .filter(Boolean)
        .join(', ') + '.';
  return {
    title: 'SLOs',
    status,
    summary,
    sections: [
      {
        heading: 'Error budgets',
        table: {
          columns: ['slo', 'objective', 'compliance', 'budget left', 'burn rate now', 'status'],
          rows: statuses.map((s) => [s.name, `${s.objective} % / ${s.window}`, percent(s.compliance), budgetText(s.budgetRemaining), burnNow(s), s.status]),
          rowStatus: statuses.map((s) => SLO_STATUS[s.status]),
        },
      },
      {
        heading: 'Burn-rate alerts',
        text: 'An alert fires when both its windows burn faster than its factor (1× spends the whole budget over the window).',
        table: {
          columns: ['slo', 'windows', 'burn rates', 'alert above', 'severity', 'burning'],
          rows: statuses.flatMap((s) => s.burnRates.map((b) => [s.name, `${b.long}/${b.short}`, `${rate(b.longRate)} / ${rate(b.shortRate)}`, `${b.factor}×`, b.severity, b.burning === null ? '?' : b.burning ? 'yes' : 'no'])),
          rowStatus: statuses.flatMap((s) => s.burnRates.map((b): Status => (b.burning ? 'fail' : b.burning === null ? 'info' : 'ok'))),
        },
      },
    ],
    notes: statuses.flatMap((s) => (s.error && !s.unreachable ? [`${s.name}: ${s.error}`] : s.status === 'no data' ? [`${s.name}: no requests over ${s.window} (the total is empty or 0).`] : [])),
    data: statuses,
  };
}
