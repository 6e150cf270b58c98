import { commands } from '../../commands/index.ts';
import type { AlertCommandDeps } from '../../commands/alerts.ts';
import type { AlertPipeline, AlertPipelineOptions } from '../alerts/alert-pipeline.ts';
import { knownSeverities } from '../alerts/severities.ts';
import { firingGroups, firingSeverities } from '../alerts/store.ts';
import { bindCommands } from '../core/command.ts';
import { AppError } from '../core/errors.ts';
import type { Infrastructure } from '../infrastructure.ts';
import type { Feature } from './feature.ts';

/** Timings tests shorten or lengthen; the defaults are the bot's. */
export type AlertsFeatureOptions = AlertPipelineOptions;

/**
 * Alerts to Slack by severity: Alertmanager's webhook is stored, applied to its alert group and
 * shown as one living message per group, through the Slack outbox. `/alerts` lists what fires.
 *
 * Without an `alerts:` section only `/alerts` is served (and `/alerts test` says why not): the
 * pipeline (its processor and node-cron schedules) is imported only when alerts are configured.
 */
export async function alertsFeature(infra: Infrastructure, opts: AlertsFeatureOptions = {}): Promise<Feature> {
  const { config, state } = infra;
  const status = state.status();
  const cfg = config.file.alerts;
  let pipeline: AlertPipeline | null = null;
  if (cfg) {
    const { createAlertPipeline, describeAlerts } = await import('../alerts/alert-pipeline.ts');
    pipeline = createAlertPipeline(infra, cfg, opts);
    infra.announce(describeAlerts(cfg, config.env.ALERT_WEBHOOK_TOKEN !== undefined, infra.outbox ? null : (infra.outboxMissing ?? 'no Slack')));
  }
  const stateDb = async () => {
    const s = await state.ready();
    if (s.kind !== 'ready') throw new AppError('dependency_unavailable', `Vigil's state database is not available: ${s.why}.`);
    return s.pool;
  };
  const deps: AlertCommandDeps = {
    alerts: state.pool
      ? {
          firing: async (severity) => firingGroups(await stateDb(), severity),
          severities: async () => knownSeverities(Object.keys(cfg?.channels ?? {}), await firingSeverities(await stateDb())),
          messageLink: infra.messageLink,
          sendTest: pipeline?.sendTest ?? null,
          // Only the bot posts; the CLI stores, and the running bot posts what it stored.
          notPosted: infra.outbox ? null : (infra.outboxMissing ?? null),
        }
      : null,
    missing: status.kind === 'ready' ? undefined : status.why,
    now: Date.now,
  };
  const alertsCommand = bindCommands([commands.alerts], deps);
  if (!pipeline) return { name: 'alerts', commands: alertsCommand };
  const { sendTest: _bound, ...parts } = pipeline;
  return { name: 'alerts', commands: alertsCommand, ...parts };
}
