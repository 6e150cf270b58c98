import type pg from 'pg';
import { AppError } from '../core/errors.ts';
import type { AuditChain } from '../audit/chain.ts';
import type { Reply } from '../core/reply.ts';
import { inTransaction } from '../db/transaction.ts';
import type { HealthService } from '../probes/health.ts';
import type { Outbox } from '../slack/outbox/types.ts';
import { buildReport } from './build.ts';
import { withChecklist } from './checklist.ts';
import type { ReportConfig, ReportsConfig } from './report-config.ts';
import { checklistOf, insertRun, previousRun } from './runs.ts';
import type { ReportSection } from './section.ts';
import { windowEndingAt } from './window.ts';

export interface ReportServiceDeps {
  cfg: ReportsConfig;
  sections: readonly ReportSection[];
  health: HealthService;
  /** Vigil's state pool once migrated; throws `dependency_unavailable` with the reason otherwise. */
  stateDb: () => Promise<pg.Pool>;
  /** Null on a process that cannot post (the CLI, no Slack): `post` refuses there. */
  outbox: Outbox | null;
  /** Each scheduled post is an audit event (`report.post`), in the post's transaction. */
  audit: AuditChain;
}

export interface ReportSummary {
  name: string;
  channel: string;
  schedule: string;
  windowMs: number;
  checklistItems: number;
}

export interface ReportService {
  list(): ReportSummary[];
  /** On demand (`/report`, `vigil report`): the report over the window ending `now`; nothing is recorded or posted. */
  build(name: string, windowMs: number | undefined, now: number): Promise<Reply>;
  /**
   * The scheduled post of one tick: built, recorded and handed to the outbox in one transaction
   * under the key `report:<name>:<tick>`. 'already' when this tick's report exists (another
   * replica, or a retry of this one), which then posts nothing.
   */
  post(name: string, tickAt: number): Promise<'posted' | 'already'>;
}

export function createReportService(deps: ReportServiceDeps): ReportService {
  const { cfg } = deps;

  function configOf(name: string): ReportConfig {
    const report = Object.hasOwn(cfg.reports, name) ? cfg.reports[name] : undefined;
    if (!report) {
      const known = Object.keys(cfg.reports);
      throw new AppError('bad_args', known.length > 0 ? `There is no report "${name}"; there are ${known.join(', ')}.` : `There is no report "${name}"; none are configured.`);
    }
    return report;
  }

  async function built(name: string, windowMs: number, end: number) {
    const pool = await deps.stateDb();
    return buildReport({
      name,
      window: windowEndingAt(end, windowMs),
      previous: await previousRun(pool, name, end),
      targets: cfg.targets,
      sections: deps.sections,
      health: deps.health,
    });
  }

  return {
    list: () =>
      Object.entries(cfg.reports).map(([name, r]) => ({ name, channel: r.channel, schedule: r.schedule, windowMs: r.window, checklistItems: r.checklist?.items.length ?? 0 })),
    async build(name, windowMs, now) {
      const report = configOf(name);
      return (await built(name, windowMs ?? report.window, now)).reply;
    },
    async post(name, tickAt) {
      const report = configOf(name);
      const outbox = deps.outbox;
      if (!outbox) throw new AppError('dependency_unavailable', 'This process cannot post to Slack; the bot posts scheduled reports.');
      const { reply, baseline } = await built(name, report.window, tickAt);
      // The figures are for --json; the stored reply is what the message shows (a click re-renders it).
      const { data: _figures, ...shown } = reply;
      const pool = await deps.stateDb();
      return inTransaction(pool, async (client) => {
        const run = await insertRun(client, {
          name,
          tickAt,
          windowMs: report.window,
          channel: report.channel,
          reply: shown,
          baseline,
          deadlineAt: report.checklist ? tickAt + report.checklist.deadline : null,
          checklist: report.checklist?.items ?? [],
        });
        if (!run) return 'already';
        const items = await checklistOf(client, run.id);
        await outbox.send({ op: 'post', key: run.messageKey, channel: run.channel, message: { reply: withChecklist(shown, run.id, items) }, kind: 'report', originAt: tickAt }, client);
        // Last: the chain's lock is held until commit and must never wait on the outbox.
        await deps.audit.append(client, [
          { actorId: 'vigil', channel: run.channel, kind: 'report.post', subject: name, outcome: 'posted', details: { tick: new Date(tickAt).toISOString(), windowSeconds: report.window / 1000, checklistItems: items.length } },
        ]);
        return 'posted';
      });
    },
  };
}
