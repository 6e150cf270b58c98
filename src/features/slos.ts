import { commands } from '../../commands/index.ts';
import type { SloCommandDeps } from '../../commands/slo.ts';
import { storeNotification } from '../alerts/store.ts';
import { bindCommands } from '../core/command.ts';
import type { Runnable } from '../core/runnable.ts';
import type { Infrastructure } from '../infrastructure.ts';
import { sloReader } from '../reports/slo/slo-status.ts';
import type { Feature } from './feature.ts';

/**
 * SLOs with error budgets read from Prometheus: `/slo`, and burn-rate alerts evaluated on one
 * replica per tick (`alerts.evaluate`) and handed to the alert pipeline as stored notifications,
 * exactly as Vigil's own rules are, so they route by severity, live in one message and resolve.
 * The schedule (and node-cron with it) is imported only when it runs.
 */
export async function slosFeature(infra: Infrastructure): Promise<Feature> {
  const { config, state, log } = infra;
  const slos = config.file.slos ?? [];
  const { read, prometheus, missing } = sloReader(slos, config.env.PROMETHEUS_URL);
  const deps: SloCommandDeps = { slos, read, prometheusMissing: missing, prometheusAt: prometheus?.shown ?? null };
  const sloCommand = bindCommands([commands.slo], deps);
  const alerts = config.file.alerts;
  const off = !prometheus ? 'PROMETHEUS_URL is not set' : !alerts ? 'no alerts: section to route them' : !state.pool ? 'no state database' : !infra.probeRedis ? 'no Redis' : null;
  if (slos.length > 0) {
    const names = slos.map((s) => `${s.name} ${s.objective} % over ${s.window.text}`).join(', ');
    infra.announce(`SLOs: ${names}${prometheus ? ` from ${prometheus.shown}` : ''}; burn-rate alerts ${off ? `off (${off})` : 'on'}`);
  }
  const pool = state.pool;
  const schedules: Runnable[] = [];
  // Scheduled with no SLOs left as well (cheap: one Redis read), so burn alerts of SLOs since removed resolve.
  if (infra.role === 'bot' && !off && prometheus && alerts && pool && infra.probeRedis) {
    // Imported only when scheduled: a one-shot CLI call (`vigil slo`) never loads node-cron.
    const { createBurnSchedule } = await import('../reports/slo/burn-schedule.ts');
    schedules.push(
      createBurnSchedule({
        slos,
        prometheus,
        cron: alerts.evaluate,
        redis: infra.probeRedis,
        keyPrefix: config.file.state.queuePrefix,
        log,
        // The processor picks stored notifications up within its poll (a second), as it does the rules'.
        store: async (n) => void (await storeNotification(pool, n)),
      }),
    );
  }
  return { name: 'slos', commands: sloCommand, schedules };
}
