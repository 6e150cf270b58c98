import { applyNotification, messageKeys, type AlertGroup, type Applied } from '../../../src/alerts/group.ts';
import type { AlertInstance, Notification } from '../../../src/alerts/notification.ts';
import type { AlertsConfig } from '../../../src/alerts/routing.ts';
import { fileSchema } from '../../../src/config/file.ts';

/** Through the real config schema, so defaults are the ones operators get. */
export function alertsConfig(alerts: Record<string, unknown> = {}): AlertsConfig {
  const parsed = fileSchema.parse({
    alerts: {
      channels: { default: 'C0DEFAULT', critical: 'C0CRIT', warning: 'C0WARN' },
      routes: [{ match: { team: 'payments' }, channel: 'C0PAY' }],
      mentions: { critical: 'S0ONCALL' },
      cooldownSeconds: { critical: 60, warning: 300, default: 300 },
      ...alerts,
    },
  }).alerts;
  if (!parsed) throw new Error('alerts config missing');
  return parsed;
}

export const CFG: AlertsConfig = alertsConfig();

export const T0 = Date.parse('2026-11-26T10:00:00Z');

export function alert(instance: string, status: 'firing' | 'resolved' = 'firing', extra: Partial<AlertInstance> = {}): AlertInstance {
  return {
    fingerprint: `fp-${instance}`,
    status,
    labels: { alertname: 'HighErrorRate', severity: 'critical', instance },
    annotations: { summary: 'Error rate above 5%', description: 'The API answers 5xx to more than 5% of requests' },
    startsAt: new Date(T0).toISOString(),
    endsAt: status === 'resolved' ? new Date(T0 + 600_000).toISOString() : null,
    generatorURL: 'http://prometheus:9090/graph?g0.expr=x',
    ...extra,
  };
}

/** An Alertmanager-like snapshot of the HighErrorRate group holding `alerts`. */
export function snapshot(alerts: AlertInstance[], over: Partial<Notification> = {}): Notification {
  return {
    source: 'alertmanager',
    receiver: 'vigil',
    groupKey: '{}:{alertname="HighErrorRate"}',
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    groupLabels: { alertname: 'HighErrorRate' },
    commonLabels: { alertname: 'HighErrorRate', severity: 'critical' },
    commonAnnotations: { summary: 'Error rate above 5%' },
    externalURL: 'http://alertmanager:9093',
    truncatedAlerts: 0,
    alerts,
    ...over,
  };
}

/**
 * `apply(prev, n, now)` for one group: applyNotification with rising notification ids, failing on
 * a superseded result, and recording the post's message key as the processor does once the post
 * is handed to the outbox.
 */
export function applierFor(groupId: string, cfg: AlertsConfig = CFG) {
  let nextId = 1;
  return (prev: AlertGroup | null, n: Notification, now: number): Exclude<Applied, { superseded: true }> => {
    const applied = applyNotification(prev, n, { groupId, notificationId: nextId++, now, cfg });
    if ('superseded' in applied) throw new Error('unexpectedly superseded');
    const posted = applied.intents.some((i) => i.kind === 'post') ? { ...applied.next, messageKey: messageKeys.post(applied.next) } : applied.next;
    return { ...applied, next: posted };
  };
}
