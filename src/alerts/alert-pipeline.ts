import type { Runnable } from '../core/runnable.ts';
import type { Button } from '../core/reply.ts';
import type { AlertGroup } from './group.ts';
import type { InteractionHandler } from '../core/interactions.ts';
import type { Route } from '../http/route.ts';
import type { Infrastructure } from '../infrastructure.ts';
import { ackHandlers } from './ack.ts';
import { resolveHandler } from './resolve-by-hand.ts';
import { silenceHandler } from './silence-request.ts';
import { createPosterPresence } from './poster-presence.ts';
import { alertmanagerReader } from './alertmanager-api.ts';
import { createHousekeeping } from './housekeeping.ts';
import { createLateFiringJudge } from './late-firing.ts';
import { alertmanagerRoute } from './intake-route.ts';
import { createAlertMetrics } from './metrics.ts';
import { createAlertProcessor } from './processor.ts';
import { severityOf, type AlertsConfig } from './routing.ts';
import { createRuleSchedule } from './rules/rule-schedule.ts';
import { alertGroupButtons } from './runbook-buttons.ts';
import { declareButton } from '../incidents/handlers.ts';
import { incidentShownOnGroup } from '../incidents/store.ts';
import type { Queryable } from '../db/queryable.ts';
import type { GroupIncident } from './group-messages.ts';
import { provideGroupRefresher } from './message-refresh.ts';
import { storeNotification } from './store.ts';
import { createTestAlertSender, type TestAlertSent } from './test-alert.ts';

export interface AlertPipeline {
  routes: Route[];
  interactions: InteractionHandler[];
  workers: Runnable[];
  schedules: Runnable[];
  /** `/alerts test <severity>`; null without a state database. */
  sendTest: ((severity: string, from: string) => Promise<TestAlertSent>) | null;
}

export interface AlertPipelineOptions {
  /** How long a test alert fires before it resolves by itself (default 60 s; tests shorten it). */
  testResolveAfterMs?: number;
  /** How often the processor looks for due notifications besides its nudges (default 1 s). */
  processorPollMs?: number;
}

/**
 * Alertmanager's webhook and Vigil's own rules → stored notifications → the processor applying
 * them to alert groups → one living message per group through the outbox; housekeeping escalates,
 * watches the dead-man's switch and summarises storms. Without a state database the webhook
 * answers that it cannot store; without Redis the schedules are off (said at start).
 */
export function createAlertPipeline(infra: Infrastructure, cfg: AlertsConfig, opts: AlertPipelineOptions = {}): AlertPipeline {
  const { config, state, log } = infra;
  const keyPrefix = config.file.state.queuePrefix;
  const metrics = createAlertMetrics(infra.metrics.registry, Object.keys(cfg.channels));
  const pool = state.pool;
  const catalog = config.file.actions?.catalog ?? {};
  const amUrl = config.env.ALERTMANAGER_URL;
  const alertmanager = amUrl ? alertmanagerReader(amUrl) : null;
  let onStorm = () => undefined as void;
  // Replicas that cannot post (a shell, a Slack-less instance) leave alert work to those that can.
  const presence = infra.probeRedis ? createPosterPresence({ redis: infra.probeRedis, keyPrefix, posts: infra.outbox !== null }) : null;
  const mayClaim = presence && !infra.outbox ? () => presence.mayClaim() : undefined;
  const processor = pool
    ? createAlertProcessor({
        pool,
        outbox: infra.outbox,
        cfg,
        log,
        metrics,
        onStorm: () => onStorm(),
        actionsFor: withDeclare(alertGroupButtons(cfg.actions, catalog), config.file.incidents !== undefined),
        ...(config.file.incidents ? { incidentOf: (db: Queryable, g: AlertGroup) => incidentShownOnGroup(db, g.groupId, g.epoch) } : {}),
        pollMs: opts.processorPollMs,
        lateFiring: createLateFiringJudge({ alertmanager }),
        ...(mayClaim ? { mayClaim } : {}),
      })
    : null;

  // Incidents show on the group's message: their feature asks for it to be shown again.
  if (processor && pool && config.file.incidents) provideGroupRefresher(infra, pool, processor);
  const schedules: Runnable[] = [];
  if (processor && pool && infra.probeRedis) {
    const housekeeping = createHousekeeping({ pool, processor, outbox: infra.outbox, cfg, redis: infra.probeRedis, keyPrefix, log, alertmanager, ...(mayClaim ? { eligible: mayClaim } : {}) });
    onStorm = housekeeping.nudge;
    // Vigil's own rules over its probes, through the same pipeline as Alertmanager's notifications.
    // Scheduled even without rules: a run then resolves what rules removed from the config left firing.
    const rules = createRuleSchedule({
      rules: cfg.rules,
      cron: cfg.evaluate,
      health: infra.probes.health,
      redis: infra.probeRedis,
      keyPrefix,
      log,
      ...(mayClaim ? { eligible: mayClaim } : {}),
      store: async (n) => {
        await storeNotification(pool, n);
        for (const a of n.alerts) metrics.received(n.source, severityOf(n), a.status);
        processor.kick();
      },
    });
    schedules.push(housekeeping.schedule, rules);
  } else if (cfg.rules.length > 0) {
    log.warn({ why: !pool ? 'no state database' : 'no Redis' }, 'alerts: own alert rules are off');
  }
  return {
    routes: [alertmanagerRoute({ token: config.env.ALERT_WEBHOOK_TOKEN, state, metrics, log, heartbeat: cfg.deadman?.alertname, stored: () => processor?.kick() })],
    interactions: processor
      ? [
          ...ackHandlers({ state, audit: infra.audit, processor }),
          silenceHandler({ state, catalog, alertmanager }),
          ...(infra.probeRedis ? [resolveHandler({ state, audit: infra.audit, redis: infra.probeRedis, keyPrefix, stored: () => processor.kick() })] : []),
        ]
      : [],
    workers: [...(presence ? [presence] : []), ...(processor ? [processor] : [])],
    schedules,
    sendTest:
      processor && pool
        ? createTestAlertSender({
            pool,
            cfg,
            resolveAfterMs: opts.testResolveAfterMs,
            stored: (ns) => {
              for (const n of ns) for (const a of n.alerts) metrics.received(n.source, severityOf(n), a.status);
              processor.kick();
            },
          })
        : null,
  };
}

/**
 * With incidents configured, critical and warning groups offer Declare incident first among their
 * buttons, until an incident is worked for them (the message then links to its channel instead).
 */
function withDeclare(buttons: (g: AlertGroup, now: number) => Button[], incidents: boolean): (g: AlertGroup, now: number, incident: GroupIncident | null) => Button[] {
  return incidents ? (g, now, incident) => [...(incident ? [] : declareButton(g)), ...buttons(g, now)] : buttons;
}

/** The start-up line: where alerts go, and what is off and why. */
export function describeAlerts(cfg: AlertsConfig, hasToken: boolean, noOutbox: string | null): string {
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
