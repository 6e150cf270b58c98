import { Counter, type Registry } from 'prom-client';

export interface AlertMetrics {
  received(source: string, severity: string, status: string): void;
  /**
   * How a stored notification ended: changed the group, changed nothing, superseded, failed
   * (retried), stale (a late copy Alertmanager contradicted) or held (waiting for Alertmanager).
   */
  applied(outcome: 'changed' | 'unchanged' | 'superseded' | 'failed' | 'stale' | 'held'): void;
  /** A Slack write handed to the outbox, by what it does to the group's message. */
  slackWrite(kind: 'post' | 'update' | 'reply' | 'escalation' | 'storm'): void;
  rejected(reason: 'unauthorized' | 'invalid' | 'too_large' | 'unavailable'): void;
}

/**
 * `severities`: the ones the config names; any other value (alert labels are free text) is
 * counted as `other`, so a typo in a rule cannot grow the label set without bound.
 */
export function createAlertMetrics(registry: Registry, severities: readonly string[]): AlertMetrics {
  const known = new Set([...severities, 'critical', 'error', 'warning', 'info', 'business', 'none']);
  const received = new Counter({
    name: 'vigil_alerts_received_total',
    help: 'Alerts in accepted notifications, by source, severity and status',
    labelNames: ['source', 'severity', 'status'] as const,
    registers: [registry],
  });
  const applied = new Counter({
    name: 'vigil_alert_notifications_applied_total',
    help: 'Stored alert notifications applied to their group, by outcome (failed and held ones are tried again; stale: a late copy that changed nothing)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const writes = new Counter({
    name: 'vigil_alert_slack_writes_total',
    help: 'Slack messages about alert groups handed to the outbox, by kind (post, update, reply, escalation; storm: counted in a storm summary instead of posted)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'vigil_alert_notifications_rejected_total',
    help: 'Alert webhook requests refused, by reason (nothing of them was stored)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  return {
    received: (source, severity, status) => received.inc({ source, severity: known.has(severity) ? severity : 'other', status }),
    applied: (outcome) => applied.inc({ outcome }),
    slackWrite: (kind) => writes.inc({ kind }),
    rejected: (reason) => rejected.inc({ reason }),
  };
}
