import alertsCommand, { type AlertCommandDeps } from '../../commands/alerts.ts';
import type { AlertProcessor } from '../alerts/processor.ts';
import type { AlertsConfig } from '../alerts/routing.ts';
import { firingGroups, storeNotification } from '../alerts/store.ts';
import { buildProbeServices } from './probe-services.ts';
import { severityOf } from '../alerts/routing.ts';
import { bindCommands } from '../core/command.ts';
import type { AlertGroup } from '../alerts/group.ts';
import type { Button } from '../core/reply.ts';
import { AppError, describeError } from '../core/errors.ts';
import type { Feature, Runnable } from '../core/feature.ts';
import type { Infrastructure } from '../container.ts';
import type { StateStatus } from '../db/state.ts';
import { createMessageRefs } from '../slack/outbox/refs.ts';
import type pg from 'pg';

const stateWhy = (s: StateStatus) => (s.kind === 'ready' ? undefined : s.why);
// Escalation, the dead-man's switch and storm summaries are checked this often (one replica per tick).
const HOUSEKEEPING_CRON = '*/5 * * * * *';
// Silences offered on a firing group's message (those the catalog's silence action allows).
const SILENCE_FOR = ['1h', '4h', '24h'];

/**
 * Alerts to Slack by severity: Alertmanager's webhook is stored, applied to its alert group and
 * shown as one living message per group, through the Slack outbox. `/alerts` lists what fires.
 *
 * Without an `alerts:` section only `/alerts` is served: the intake, processor and schedules
 * (node-cron) are imported only when alerts are configured.
 */
export async function alertsFeature(infra: Infrastructure): Promise<Feature> {
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
  const [
    { ackHandler },
    { alertmanagerRoute },
    { createAlertMetrics },
    { createAlertProcessor },
    { createRuleSchedule },
    { actionButtonsFrom, catalogButtonsFrom },
    { runbookButtons },
    { createSchedule },
    { escalateOverdue },
    { checkDeadman },
    { refreshStorms },
  ] = await Promise.all([
    import('../alerts/ack.ts'),
    import('../alerts/intake-route.ts'),
    import('../alerts/metrics.ts'),
    import('../alerts/processor.ts'),
    import('../alerts/rules/rule-schedule.ts'),
    import('../actions/buttons.ts'),
    import('../alerts/runbook-buttons.ts'),
    import('../schedules/schedule.ts'),
    import('../alerts/escalation.ts'),
    import('../alerts/deadman.ts'),
    import('../alerts/storm.ts'),
  ]);

  const metrics = createAlertMetrics(infra.metrics.registry, Object.keys(cfg.channels));
  const pool = state.pool;
  let nudgeHousekeeping = () => undefined as void;
  const catalog = config.file.actions?.catalog ?? {};
  const actionButton = actionButtonsFrom(catalog);
  const runbookFor = runbookButtons(cfg.actions, catalogButtonsFrom(catalog));
  // The alert's own runbook actions first, then Silence 1h / 4h / 24h.
  const actionsFor = (g: AlertGroup) => {
    const alertname = g.view.commonLabels.alertname;
    if (!alertname) return [];
    const silences = SILENCE_FOR.map((d) => actionButton('alertmanager.silence', `Silence ${d}`, { alertname, duration: d })).filter((b): b is Button => b !== null);
    return [...runbookFor(g), ...silences];
  };
  const processor = pool ? createAlertProcessor({ pool, outbox: infra.outbox, cfg, log, metrics, onStorm: () => nudgeHousekeeping(), actionsFor }) : null;
  infra.announce(describeAlerts(cfg, config.env.ALERT_WEBHOOK_TOKEN !== undefined, infra.outbox ? null : (infra.outboxMissing ?? 'no Slack')));

  const schedules: Runnable[] = [];
  let closed = false;
  if (processor && pool && infra.probeRedis) {
    const housekeeping = createSchedule({
      name: 'alerts-housekeeping',
      cron: HOUSEKEEPING_CRON,
      redis: infra.probeRedis,
      keyPrefix: config.file.state.queuePrefix,
      log,
      run: () => housekeep(pool, processor, infra, cfg, { escalateOverdue, checkDeadman, refreshStorms }),
    });
    // Soon after a storm changes rather than at the next tick; never once the feature closed.
    nudgeHousekeeping = debounce(() => void (closed ? undefined : housekeeping.runNow().catch(() => undefined)), 200);
    schedules.push(housekeeping);
  }
  // Vigil's own rules over its probes, through the same pipeline as Alertmanager's notifications.
  // Scheduled even without rules: a run then resolves what rules removed from the config left firing.
  const probes = buildProbeServices(infra);
  if (processor && pool && infra.probeRedis) {
    schedules.push(
      createRuleSchedule({
        rules: cfg.rules,
        cron: cfg.evaluate,
        health: probes.health,
        redis: infra.probeRedis,
        keyPrefix: config.file.state.queuePrefix,
        log,
        store: async (n) => {
          await storeNotification(pool, n);
          for (const a of n.alerts) metrics.received(n.source, severityOf(n), a.status);
          processor.kick();
        },
      }),
    );
  } else if (cfg.rules.length > 0) {
    log.warn({ why: !pool ? 'no state database' : 'no Redis' }, 'alerts: own alert rules are off');
  }
  return {
    name: 'alerts',
    commands,
    routes: [
      alertmanagerRoute({ token: config.env.ALERT_WEBHOOK_TOKEN, state, metrics, log, heartbeat: cfg.deadman?.alertname, stored: () => processor?.kick() }),
    ],
    interactions: processor ? [ackHandler({ state, processor })] : [],
    workers: processor ? [processor] : [],
    schedules,
    close: async () => {
      closed = true;
      await probes.close();
    },
  };
}

/** What a housekeeping tick runs, imported with the feature. */
interface HousekeepingChecks {
  escalateOverdue: typeof import('../alerts/escalation.ts').escalateOverdue;
  checkDeadman: typeof import('../alerts/deadman.ts').checkDeadman;
  refreshStorms: typeof import('../alerts/storm.ts').refreshStorms;
}

/** One housekeeping tick: each part runs even when another fails (it is logged and tried next tick). */
async function housekeep(pool: pg.Pool, processor: AlertProcessor, infra: Infrastructure, cfg: AlertsConfig, checks: HousekeepingChecks): Promise<void> {
  const { escalateOverdue, checkDeadman, refreshStorms } = checks;
  const now = Date.now();
  const parts: Array<[string, () => Promise<unknown>]> = [];
  const { escalation, deadman } = cfg;
  const outbox = infra.outbox;
  if (escalation) parts.push(['escalation', () => escalateOverdue(pool, processor, escalation, now)]);
  if (deadman) parts.push(['dead-man switch', async () => (await checkDeadman(pool, deadman, now)) && processor.kick()]);
  if (outbox) parts.push(['storm summaries', () => refreshStorms(pool, outbox, cfg.storm, now)]);
  for (const [what, part] of parts) {
    await part().catch((err: unknown) => infra.log.warn({ err: describeError(err) }, `alerts: ${what} check failed; trying again next tick`));
  }
}

/** The start-up line: where alerts go, and what is off and why. */
function describeAlerts(cfg: AlertsConfig, hasToken: boolean, noOutbox: string | null): string {
  const routes = Object.entries(cfg.channels).map(([severity, channel]) => `${severity} → ${channel}`).join(', ');
  const extras = [
    cfg.routes.length > 0 ? `${cfg.routes.length} label route(s)` : '',
    cfg.escalation ? `escalation to ${cfg.escalation.channel} after ${cfg.escalation.afterMinutes} min` : '',
    cfg.deadman ? `dead-man's switch on ${cfg.deadman.alertname} (${cfg.deadman.windowMinutes} min)` : '',
    cfg.rules.length > 0 ? `${cfg.rules.length} own rule(s)` : '',
  ].filter(Boolean);
  const off = [
    hasToken ? '' : 'POST /alerts/alertmanager refuses every request until ALERT_WEBHOOK_TOKEN is set',
    noOutbox ? `groups are tracked but not posted (${noOutbox})` : '',
  ].filter(Boolean);
  return `Alerts: ${routes}${extras.length ? `; ${extras.join('; ')}` : ''}${off.length ? `. ${off.join('; ')}.` : ''}`;
}

function debounce(fn: () => void, ms: number): () => void {
  let timer: NodeJS.Timeout | null = null;
  return () => {
    timer ??= setTimeout(() => {
      timer = null;
      fn();
    }, ms);
  };
}
