import alertsCommand, { type AlertCommandDeps } from '../../commands/alerts.ts';
import { ackHandler } from '../alerts/ack.ts';
import { alertmanagerRoute } from '../alerts/intake-route.ts';
import { createAlertMetrics } from '../alerts/metrics.ts';
import { createAlertProcessor } from '../alerts/processor.ts';
import { firingGroups } from '../alerts/store.ts';
import { bindCommands } from '../core/command.ts';
import { AppError } from '../core/errors.ts';
import type { Feature } from '../core/feature.ts';
import type { Infrastructure } from '../container.ts';
import { createMessageRefs } from '../slack/outbox/refs.ts';
import type { StateStatus } from '../db/state.ts';

const stateWhy = (s: StateStatus) => (s.kind === 'ready' ? undefined : s.why);

/**
 * Alerts to Slack by severity: Alertmanager's webhook is stored, applied to its alert group and
 * shown as one living message per group, through the Slack outbox. `/alerts` lists what fires.
 */
export function alertsFeature(infra: Infrastructure): Feature {
  const { config, state, log } = infra;
  const cfg = config.file.alerts;
  const ready = async () => {
    const s = await state.ready();
    if (s.kind !== 'ready') throw new AppError('dependency_unavailable', `Vigil's state database is not available: ${s.why}.`);
    return s.pool;
  };
  const commandDeps: AlertCommandDeps = {
    alerts: state.pool
      ? {
          firing: async (severity) => firingGroups(await ready(), severity),
          messageRef: async (key) => createMessageRefs(await ready()).find(key),
        }
      : null,
    missing: stateWhy(state.status()),
    now: Date.now,
  };
  const commands = bindCommands([alertsCommand], commandDeps);
  if (!cfg) return { name: 'alerts', commands };

  const metrics = createAlertMetrics(infra.metrics.registry, Object.keys(cfg.channels));
  const pool = state.pool;
  const processor = pool ? createAlertProcessor({ pool, outbox: infra.outbox, cfg, log, metrics }) : null;
  if (!config.env.ALERT_WEBHOOK_TOKEN) log.warn('alerts: ALERT_WEBHOOK_TOKEN is not set; POST /alerts/alertmanager refuses every request');
  if (!infra.outbox) log.warn({ why: infra.outboxMissing ?? 'no Slack' }, 'alerts: no Slack outbox; alert groups are tracked but not posted');
  return {
    name: 'alerts',
    commands,
    routes: [alertmanagerRoute({ token: config.env.ALERT_WEBHOOK_TOKEN, state, metrics, log, stored: () => processor?.kick() })],
    interactions: processor ? [ackHandler({ state, processor })] : [],
    workers: processor ? [processor] : [],
  };
}
