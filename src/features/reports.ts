import { commands } from '../../commands/index.ts';
import type { ReportCommandDeps } from '../../commands/report.ts';
import { bindCommands } from '../core/command.ts';
import { AppError } from '../core/errors.ts';
import type { Infrastructure } from '../infrastructure.ts';
import { checklistHandler } from '../reports/checklist-click.ts';
import type { ReportSection } from '../reports/section.ts';
import { defaultSections } from '../reports/sections/index.ts';
import { createReportService } from '../reports/service.ts';
import { windowLabel } from '../reports/window.ts';
import type { Runnable } from '../core/runnable.ts';
import type { Feature } from './feature.ts';

export interface ReportsFeatureOptions {
  /**
   * Section providers appended to the built-in ones (the seam for the SLO budgets): each adds its
   * part to every report, scheduled and on demand, and its figures under its id in --json.
   */
  extraSections?: (infra: Infrastructure) => readonly ReportSection[];
}

/**
 * Ops reports: `/report <name>` on demand anywhere; on the bot, each configured report posted on
 * its schedule (leased, once per tick across replicas, through the outbox), its checklist's
 * clicks recorded and audited, open items posted again at the deadline.
 */
export async function reportsFeature(infra: Infrastructure, opts: ReportsFeatureOptions = {}): Promise<Feature> {
  const { config, state, log } = infra;
  const cfg = config.file.reports;
  const status = state.status();
  const off = (missing: string): Feature => ({
    name: 'reports',
    commands: bindCommands<ReportCommandDeps>([commands.report], { reports: null, missing, now: Date.now }),
  });
  if (!cfg || Object.keys(cfg.reports).length === 0) return off('no reports are configured (reports: in manifests/vigil.yaml, see docs/reports.md)');
  if (!state.pool) return off(`reports read Vigil's state database, and there is none (${status.kind === 'ready' ? 'none' : status.why})`);

  const stateDb = async () => {
    const s = await state.ready();
    if (s.kind !== 'ready') throw new AppError('dependency_unavailable', `Vigil's state database is not available: ${s.why}.`);
    return s.pool;
  };
  const silenceActions = Object.entries(config.file.actions?.catalog ?? {})
    .filter(([, a]) => a.runner.kind === 'builtin' && a.runner.builtin === 'alertmanager.silence')
    .map(([name]) => name);
  const sections = [...defaultSections({ stateDb, probeDb: infra.probeDb, queues: infra.probes.queues, silenceActions }), ...(opts.extraSections?.(infra) ?? [])];
  const service = createReportService({ cfg, sections, health: infra.probes.health, stateDb, outbox: infra.outbox, audit: infra.audit });

  const schedules: Runnable[] = [];
  const names = Object.entries(cfg.reports).map(([name, r]) => `${name} → ${r.channel} (${r.schedule}, ${windowLabel(r.window)})`);
  if (infra.role === 'bot' && infra.outbox && infra.probeRedis) {
    // Only here: the scheduler (node-cron) stays out of one-shot CLI calls.
    const { createChecklistSchedule, createReportSchedules } = await import('../reports/schedules.ts');
    const keyPrefix = config.file.state.queuePrefix;
    schedules.push(...createReportSchedules({ cfg, service, redis: infra.probeRedis, keyPrefix, log }));
    if (Object.values(cfg.reports).some((r) => r.checklist)) {
      schedules.push(createChecklistSchedule({ cfg, pool: state.pool, outbox: infra.outbox, audit: infra.audit, redis: infra.probeRedis, keyPrefix, log }));
    }
    infra.announce(`Reports: ${names.join(', ')}`);
  } else if (infra.role === 'bot') {
    infra.announce(`Reports: ${names.join(', ')}; on demand only, not posted (${!infra.outbox ? (infra.outboxMissing ?? 'no Slack') : 'no Redis for the schedules'})`);
  }
  return {
    name: 'reports',
    commands: bindCommands<ReportCommandDeps>([commands.report], { reports: service, missing: undefined, now: Date.now }),
    interactions: [checklistHandler({ state, audit: infra.audit, outbox: infra.outbox })],
    schedules,
  };
}
