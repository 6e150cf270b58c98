import { createHash } from 'node:crypto';
import { olderThanShown, snapshotTime, startedAfter } from './alert-time.ts';
import type { AlertInstance, Notification } from './notification.ts';
import { channelFor, cooldownMsFor, severityOf, type AlertsConfig } from './routing.ts';

/** What a group's message shows, besides its status: kept as JSON in `alert_groups.state`. */
export interface GroupView {
  alerts: Record<string, AlertInstance>;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string | null;
}

/**
 * A silence covering every firing alert of a group, as its message shows it: Alertmanager's (from
 * a button, amtool or its UI) or Vigil's own for its rule alerts. `createdBy` is who made it as
 * recorded there (a Slack user id when Vigil made it for someone).
 */
export interface GroupSilence {
  source: 'alertmanager' | 'vigil';
  /** The silence(s) covering the group; Unsilence expires these. */
  ids: string[];
  createdBy: string;
  /** When the last of them ends (ms). */
  endsAt: number;
  comment: string;
  /** `name="value", …` of the first silence. */
  matchers: string;
}

/** One alert group as Vigil tracks it (a row of `vigil.alert_groups`); times in ms. */
export interface AlertGroup {
  groupId: string;
  source: Notification['source'];
  groupKey: string;
  receiver: string;
  channel: string;
  severity: string;
  status: 'firing' | 'resolved';
  view: GroupView;
  epoch: number;
  version: number;
  firedAt: number;
  resolvedAt: number | null;
  flaps: number;
  lastReplyAt: number | null;
  ackedBy: string | null;
  ackedAt: number | null;
  escalatedAt: number | null;
  messageKey: string | null;
  lastNotificationId: number;
  /** When Vigil first showed this epoch (posted, or counted in a storm summary). */
  arrivedAt: number;
  /** The storm summary showing this group instead of a message of its own, if any. */
  stormId: number | null;
  /** Escalation counts from here: shown, fired again after resolving, or un-acknowledged. */
  attentionSince: number;
  silence: GroupSilence | null;
}

/** What should change in Slack; the processor turns these into outbox messages. */
export type Intent =
  | { kind: 'post' }
  | { kind: 'update' }
  /** A thread reply; `mention`: lead with the severity's mention (the group needs someone again). */
  | { kind: 'reply'; lines: string[]; mention?: boolean }
  /** Not acknowledged in time: mention on-call in the thread and copy the message to the escalation channel. */
  | { kind: 'escalate'; minutes: number };

export type Applied = { next: AlertGroup; intents: Intent[]; changed: boolean } | { superseded: true };

/** A silence covers the group now: no escalation, mentions or thread replies. */
export function silenced(g: Pick<AlertGroup, 'silence'>, now: number): boolean {
  return g.silence !== null && g.silence.endsAt > now;
}

/** Outbox keys: one message per (group, epoch); every change has its own key, so a retry is sent once. */
export const messageKeys = {
  post: (g: Pick<AlertGroup, 'groupId' | 'epoch'>) => `alert:${g.groupId}:${g.epoch}`,
  update: (g: Pick<AlertGroup, 'groupId' | 'epoch' | 'version'>) => `alert:${g.groupId}:${g.epoch}:v${g.version}`,
  reply: (g: Pick<AlertGroup, 'groupId' | 'epoch' | 'version'>, n = 0) => `alert:${g.groupId}:${g.epoch}:r${g.version}${n ? `.${n}` : ''}`,
  escalation: (g: Pick<AlertGroup, 'groupId' | 'epoch'>) => `alert:${g.groupId}:${g.epoch}:escalation`,
  escalationReply: (g: Pick<AlertGroup, 'groupId' | 'epoch'>) => `alert:${g.groupId}:${g.epoch}:escalation-reply`,
};

const firing = (alerts: Record<string, AlertInstance>) => Object.values(alerts).filter((a) => a.status === 'firing');

/**
 * Apply one notification (a snapshot of the group) to what Vigil knows of the group. Pure: the
 * same inputs give the same result, so a notification processed twice changes nothing twice.
 *
 * - The same snapshot again (HA Alertmanager, retries, repeat_interval) changes nothing visible.
 * - A resolved group firing again within its severity's cooldown keeps its message and counts a
 *   flap; later than that it starts a new epoch: a new message.
 * - Alerts joining or resolving get a thread reply, at most one per cooldown window.
 */
export function applyNotification(
  prev: AlertGroup | null,
  n: Notification,
  ctx: { groupId: string; notificationId: number; now: number; cfg: AlertsConfig },
): Applied {
  const { now, cfg } = ctx;
  if (prev && prev.lastNotificationId >= ctx.notificationId) return { superseded: true };
  const anyFiring = n.status === 'firing' && n.alerts.some((a) => a.status === 'firing');

  const severity = prev?.severity ?? severityOf(n);
  const cooldownMs = cooldownMsFor(cfg, prev?.severity ?? severity);
  const refire = prev?.status === 'resolved' && anyFiring;
  const flap = refire && prev.resolvedAt !== null && now - prev.resolvedAt < cooldownMs && prev.messageKey !== null;
  const newEpoch = prev === null || (refire && !flap);

  const before: Record<string, AlertInstance> = newEpoch ? {} : prev.view.alerts;
  const alerts = mergeSnapshot(before, n, now);
  const status = firing(alerts).length > 0 ? 'firing' : 'resolved';
  const view: GroupView = {
    alerts,
    groupLabels: n.groupLabels,
    commonLabels: n.commonLabels,
    commonAnnotations: n.commonAnnotations,
    externalURL: n.externalURL,
  };

  if (newEpoch) {
    const sev = severityOf(n);
    const next: AlertGroup = {
      groupId: ctx.groupId,
      source: n.source,
      groupKey: n.groupKey,
      receiver: n.receiver,
      channel: channelFor(cfg, n.commonLabels, sev),
      severity: sev,
      status,
      view,
      epoch: prev ? prev.epoch + 1 : 1,
      version: 1,
      firedAt: earliestStart(alerts) ?? now,
      resolvedAt: status === 'resolved' ? now : null,
      flaps: 0,
      lastReplyAt: null,
      ackedBy: null,
      ackedAt: null,
      escalatedAt: null,
      messageKey: null,
      lastNotificationId: ctx.notificationId,
      arrivedAt: now,
      stormId: null,
      attentionSince: now,
      silence: null,
    };
    // A group first seen resolved (its firing was never sent to Vigil) has nothing to show.
    return { next, intents: status === 'firing' ? [{ kind: 'post' }] : [], changed: status === 'firing' };
  }

  const next: AlertGroup = {
    ...prev,
    status,
    view,
    flaps: prev.flaps + (flap ? 1 : 0),
    resolvedAt: status === 'resolved' ? (prev.status === 'resolved' ? prev.resolvedAt : now) : null,
    lastNotificationId: ctx.notificationId,
    // Back after resolving: whoever acknowledged the last firing is not on this one yet, and
    // escalation starts over.
    ...(flap ? { ackedBy: null, ackedAt: null, escalatedAt: null, attentionSince: now } : {}),
  };
  // Shown already (its message, or its storm's summary): update that. Not shown yet (no Slack
  // outbox when it fired): post it now if it still fires, even on a repeat that changes nothing.
  const shown = next.messageKey !== null || next.stormId !== null;
  if (visibleDigest(next) === visibleDigest(prev)) {
    return { next: { ...next, view: prev.view }, intents: !shown && status === 'firing' ? [{ kind: 'post' }] : [], changed: false };
  }
  next.version = prev.version + 1;

  const intents: Intent[] = shown ? [{ kind: 'update' }] : status === 'firing' ? [{ kind: 'post' }] : [];
  const replyDue = prev.lastReplyAt === null || now - prev.lastReplyAt >= cooldownMs;
  if (flap && next.messageKey !== null && (replyDue || prev.ackedBy !== null)) {
    // Someone may think it is handled: always say so when an acknowledgement was cleared.
    const cleared = prev.ackedBy !== null ? ' The acknowledgement is cleared.' : '';
    intents.push({ kind: 'reply', lines: [`🔁 Firing again ${duration(now - (prev.resolvedAt ?? now))} after it resolved (flap ${next.flaps}).${cleared}`], mention: true });
    next.lastReplyAt = now;
  } else if (!flap && next.messageKey !== null && replyDue) {
    const lines = changeLines(prev, next, now);
    if (lines.length > 0) {
      intents.push({ kind: 'reply', lines });
      next.lastReplyAt = now;
    }
  }
  return { next, intents, changed: true };
}

/**
 * A snapshot updates the alerts it names. A "resolved" notification resolves the whole group; a
 * complete snapshot (nothing truncated) no longer naming a firing alert means it resolved
 * meanwhile. Alerts left out by `max_alerts` keep their state.
 */
function mergeSnapshot(before: Record<string, AlertInstance>, n: Notification, now: number): Record<string, AlertInstance> {
  const out: Record<string, AlertInstance> = { ...before };
  const named = new Set<string>();
  // An older copy of what the group shows (a late HA peer, a retried webhook) changes nothing.
  const kept = new Set<string>();
  for (const a of n.alerts) {
    named.add(a.fingerprint);
    const shown = out[a.fingerprint];
    if (shown && olderThanShown(shown, a)) kept.add(a.fingerprint);
    else out[a.fingerprint] = a;
  }
  const complete = n.truncatedAlerts === 0;
  const snapshotAt = snapshotTime(n);
  for (const [fp, a] of Object.entries(out)) {
    const unnamed = !named.has(fp);
    // Kept, or not named by a snapshot taken before it started: this snapshot cannot resolve it.
    if (a.status !== 'firing' || kept.has(fp) || (unnamed && startedAfter(a, snapshotAt))) continue;
    if (n.status === 'resolved' || (complete && unnamed)) out[fp] = { ...a, status: 'resolved', endsAt: a.endsAt ?? new Date(now).toISOString() };
  }
  return out;
}

function earliestStart(alerts: Record<string, AlertInstance>): number | null {
  const starts = firing(alerts)
    .map((a) => Date.parse(a.startsAt))
    .filter((t) => Number.isFinite(t) && t > 0);
  return starts.length > 0 ? Math.min(...starts) : null;
}

/** Everything the message shows; equal digests mean a notification changed nothing visible. */
export function visibleDigest(g: Pick<AlertGroup, 'status' | 'view' | 'flaps' | 'ackedBy' | 'escalatedAt' | 'silence'>): string {
  const alerts = Object.keys(g.view.alerts)
    .sort()
    .map((fp) => {
      const a = g.view.alerts[fp] as AlertInstance;
      return [fp, a.status, a.labels, a.annotations, a.startsAt, a.generatorURL];
    });
  const canonical = JSON.stringify([g.status, g.flaps, g.ackedBy, g.escalatedAt, g.silence, alerts, sorted(g.view.commonLabels), sorted(g.view.commonAnnotations)]);
  return createHash('sha256').update(canonical).digest('hex');
}

const sorted = (r: Record<string, string>) => Object.keys(r).sort().map((k) => [k, r[k]]);

/** One short line per alert that joined or resolved, or one line when the whole group resolved. */
function changeLines(prev: AlertGroup, next: AlertGroup, now: number): string[] {
  if (next.status === 'resolved' && prev.status === 'firing') return [`✅ Resolved after ${duration(now - next.firedAt)}`];
  const lines: string[] = [];
  const was = new Set(firing(prev.view.alerts).map((a) => a.fingerprint));
  const is = new Set(firing(next.view.alerts).map((a) => a.fingerprint));
  for (const a of firing(next.view.alerts)) if (!was.has(a.fingerprint)) lines.push(`🔥 Firing: ${alertLabel(a, next.view.commonLabels)}`);
  for (const a of Object.values(next.view.alerts)) if (was.has(a.fingerprint) && !is.has(a.fingerprint)) lines.push(`✅ Resolved: ${alertLabel(a, next.view.commonLabels)}`);
  return lines;
}

/** What tells an alert apart from the others of its group: the labels they do not share. */
export function alertLabel(a: AlertInstance, common: Record<string, string>): string {
  const own = Object.entries(a.labels).filter(([k, v]) => common[k] !== v);
  if (own.length === 0) return a.labels.alertname ?? a.fingerprint;
  return own.map(([k, v]) => `${k}=${v}`).join(', ');
}

/** 45s, 12m, 3h 5m, 2d 4h. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${m % 60 ? ` ${m % 60}m` : ''}`;
  const d = Math.floor(h / 24);
  return `${d}d${h % 24 ? ` ${h % 24}h` : ''}`;
}
