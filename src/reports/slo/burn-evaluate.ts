import { fingerprintOf } from '../../alerts/alertmanager.ts';
import type { AlertInstance, Notification } from '../../alerts/notification.ts';
import { duration } from '../../alerts/group.ts';
import type { BurnAlert, SloSpec } from './slo-config.ts';
import { budgetLastsMs } from './slo-math.ts';
import type { SloStatus } from './slo-status.ts';

/**
 * Burn-rate alerts, decided here without Redis or Prometheus: the caller brings the SLOs' statuses,
 * the state of the previous evaluation and the clock. An alert fires when both its windows burn
 * faster than its factor and resolves when either stops; nothing waits (the short window is what
 * makes it reset soon, as the SRE workbook intends). An evaluation that cannot tell (Prometheus
 * unreachable, no traffic in a window) changes nothing: no resolve, no fire, no flap.
 */

export interface BurnGroupState {
  /** Firing since then (the alert's startsAt); null when not firing. */
  firingSince: number | null;
  /** The alert as last sent firing, which a later notification resolves; null when not sent firing. */
  sent: AlertInstance | null;
}

export interface BurnState {
  /** By group key (one group per SLO and pair of windows); an evaluated group has an entry. */
  groups: Record<string, BurnGroupState>;
  /** Prometheus has not answered since then: said once when it stops, once when it answers again. */
  unreachableSince: number | null;
}

export const EMPTY_BURN_STATE: BurnState = { groups: {}, unreachableSince: null };
export const SLO_RECEIVER = 'vigil-slos';
export const SLO_ALERT_SUFFIX = 'error budget burn';

/** The group of one SLO's burn alert: one living message per SLO and pair of windows. */
export const burnGroupKey = (slo: string, b: Pick<BurnAlert, 'long' | 'short'>) => `vigil-slo:${slo}:${b.long.text}/${b.short.text}`;

export interface BurnEvaluation {
  next: BurnState;
  notifications: Notification[];
  /** `down`: Prometheus stopped answering (this evaluation); `up`: it answers again; null: no change. */
  prometheus: { change: 'down' | 'up'; error?: string; sinceMs?: number } | null;
}

export function evaluateBurnAlerts(slos: readonly SloSpec[], statuses: readonly SloStatus[], prev: BurnState, now: number): BurnEvaluation {
  const groups: Record<string, BurnGroupState> = {};
  const notifications: Notification[] = [];
  const byName = new Map(statuses.map((s) => [s.name, s]));

  for (const slo of slos) {
    const status = byName.get(slo.name);
    for (const alert of slo.burnAlerts) {
      const key = burnGroupKey(slo.name, alert);
      const before = prev.groups[key];
      const reading = status?.error === null ? status.burnRates.find((r) => r.long === alert.long.text && r.short === alert.short.text) : undefined;
      const burning = reading?.burning ?? null;
      if (burning === null) {
        // Cannot tell: keep what was (an unevaluated group stays unevaluated, so its first real evaluation still sends).
        if (before) groups[key] = before;
        continue;
      }
      const firingSince = burning ? (before?.firingSince ?? now) : null;
      const firing = firingSince === null || !reading ? null : alertOf(slo, alert, reading, firingSince);
      const sentBefore = before?.sent ?? null;
      const changed = before === undefined || (firing === null) !== (sentBefore === null) || (firing !== null && firing.fingerprint !== sentBefore?.fingerprint);
      if (changed) notifications.push(snapshotOf(slo.name, alert.severity, key, firing, sentBefore, now));
      groups[key] = { firingSince, sent: changed ? firing : sentBefore };
    }
  }

  // Burn alerts no longer configured (an SLO or a pair of windows removed): resolve what they had firing.
  for (const [key, before] of Object.entries(prev.groups).sort(([a], [b]) => a.localeCompare(b))) {
    // Every configured group with a previous state is in `groups` by now: what is left was removed.
    if (key in groups || !before.sent) continue;
    const slo = before.sent.labels.slo ?? key;
    notifications.push(snapshotOf(slo, before.sent.labels.severity ?? '', key, null, before.sent, now));
  }

  const unreachable = statuses.find((s) => s.unreachable);
  let prometheus: BurnEvaluation['prometheus'] = null;
  let unreachableSince = prev.unreachableSince;
  if (unreachable && unreachableSince === null) {
    unreachableSince = now;
    prometheus = { change: 'down', error: unreachable.error ?? 'no answer' };
  } else if (!unreachable && unreachableSince !== null && statuses.length > 0) {
    prometheus = { change: 'up', sinceMs: now - unreachableSince };
    unreachableSince = null;
  }
  return { next: { groups, unreachableSince }, notifications, prometheus };
}

const rate = (r: number | null) => (r === null ? '?' : `${r >= 100 ? Math.round(r) : Math.round(r * 10) / 10}×`);

function alertOf(slo: SloSpec, alert: BurnAlert, reading: { longRate: number | null; shortRate: number | null }, firingSince: number): AlertInstance {
  const labels = { alertname: `${slo.name} ${SLO_ALERT_SUFFIX}`, severity: alert.severity, slo: slo.name, windows: `${alert.long.text}/${alert.short.text}` };
  const lasts = reading.longRate === null ? null : budgetLastsMs(reading.longRate, slo.window.ms);
  const annotations: Record<string, string> = {
    summary: `${slo.name} burns its error budget at ${rate(reading.longRate)} over ${alert.long.text} and ${rate(reading.shortRate)} over ${alert.short.text} (alert above ${alert.factor}×; objective ${slo.objective} % over ${slo.window.text})`,
    description: [slo.description, lasts === null ? null : `At this rate a full ${slo.window.text} budget lasts ${duration(lasts)}.`].filter(Boolean).join(' '),
  };
  if (slo.runbook_url) annotations.runbook_url = slo.runbook_url;
  return { fingerprint: fingerprintOf(labels), status: 'firing', labels, annotations, startsAt: new Date(firingSince).toISOString(), endsAt: null, generatorURL: null };
}

/** The group as Alertmanager would send it, complete: a firing alert, or the one sent before, resolved. */
function snapshotOf(slo: string, severity: string, groupKey: string, firing: AlertInstance | null, sentBefore: AlertInstance | null, now: number): Notification {
  const endsAt = new Date(now).toISOString();
  const resolved = sentBefore && sentBefore.fingerprint !== firing?.fingerprint ? [{ ...sentBefore, status: 'resolved' as const, endsAt }] : [];
  const alerts = [...(firing ? [firing] : []), ...resolved];
  const first = alerts[0];
  return {
    source: 'vigil',
    receiver: SLO_RECEIVER,
    groupKey,
    status: firing ? 'firing' : 'resolved',
    groupLabels: { slo },
    commonLabels: first ? { ...first.labels } : { alertname: `${slo} ${SLO_ALERT_SUFFIX}`, severity, slo },
    commonAnnotations: first ? { ...first.annotations } : {},
    externalURL: null,
    truncatedAlerts: 0,
    alerts,
  };
}
