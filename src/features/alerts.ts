import { commands } from '../../commands/index.ts';
import type { AlertCommandDeps } from '../../commands/alerts.ts';
import { firingGroups } from '../alerts/store.ts';
import { bindCommands } from '../core/command.ts';
import { AppError } from '../core/errors.ts';
import type { Infrastructure } from '../infrastructure.ts';
import type { Feature } from './feature.ts';

/**
 * Alerts to Slack by severity: Alertmanager's webhook is stored, applied to its alert group and
 * shown as one living message per group, through the Slack outbox. `/alerts` lists what fires.
 *
 * Without an `alerts:` section only `/alerts` is served: the pipeline (its processor and
 * node-cron schedules) is imported only when alerts are configured.
 */
export async function alertsFeature(infra: Infrastructure): Promise<Feature> {
  const { config, state } = infra;
  const status = state.status();
  const deps: AlertCommandDeps = {
    alerts: state.pool
      ? {
          async firing(severity) {
            const s = await state.ready();
            if (s.kind !== 'ready') throw new AppError('dependency_unavailable', `Vigil's state database is not available: ${s.why}.`);
            return firingGroups(s.pool, severity);
          },
          messageLink: infra.messageLink,
        }
      : null,
    missing: status.kind === 'ready' ? undefined : status.why,
    now: Date.now,
  };
  const alertsCommand = bindCommands([commands.alerts], deps);
  const cfg = config.file.alerts;
  if (!cfg) return { name: 'alerts', commands: alertsCommand };

  const { createAlertPipeline, describeAlerts } = await import('../alerts/alert-pipeline.ts');
  const pipeline = createAlertPipeline(infra, cfg);
  infra.announce(describeAlerts(cfg, config.env.ALERT_WEBHOOK_TOKEN !== undefined, infra.outbox ? null : (infra.outboxMissing ?? 'no Slack')));
  return { name: 'alerts', commands: alertsCommand, ...pipeline };
}
