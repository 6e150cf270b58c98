import type { AlertGroup } from './group.ts';
import type { AlertInstance, Notification } from './notification.ts';

/**
 * Alert time against arrival order. Vigil applies a group's notifications in the order they
 * arrived, but arrival is not always the order things happened: an HA Alertmanager peer that
 * missed its partner's resolve sends its older firing late, a webhook retried by a proxy lands
 * after the next one. Alertmanager's webhook carries no notification time, only each alert's
 * startsAt (and endsAt once resolved), so those are what tells an older snapshot apart.
 */

const at = (iso: string | null): number => (iso === null ? NaN : Date.parse(iso));

/**
 * The latest moment a snapshot knows of: its alerts' starts and ends. +Infinity for a snapshot
 * naming no alert (no time to compare with: arrival order decides).
 */
export function snapshotTime(n: Pick<Notification, 'alerts'>): number {
  const times = n.alerts.map((a) => (a.status === 'resolved' ? at(a.endsAt) : at(a.startsAt))).filter(Number.isFinite);
  return times.length > 0 ? Math.max(...times) : Infinity;
}

/**
 * Whether `incoming` is an older copy of what the group shows for the same alert, so it must
 * change nothing. Unknown or unreadable times are never "older": arrival order then decides.
 *
 * - a resolve that ended before the firing shown started: the end of an earlier firing;
 * - a firing that started before the firing shown: a copy of an earlier one;
 * - a resolve that ended before the resolve shown.
 *
 * A firing after a resolve is never judged here, even when it started before that resolve ended:
 * that is either a late copy or a genuine re-fire (see {@link doubtfulRefires}).
 */
export function olderThanShown(shown: AlertInstance, incoming: AlertInstance): boolean {
  if (shown.status === 'firing') {
    const started = at(shown.startsAt);
    const other = incoming.status === 'resolved' ? at(incoming.endsAt) : at(incoming.startsAt);
    return other < started;
  }
  return incoming.status === 'resolved' && at(incoming.endsAt) < at(shown.endsAt);
}

/** A firing alert the snapshot cannot have known: it started after everything the snapshot names. */
export function startedAfter(a: AlertInstance, snapshotAt: number): boolean {
  return at(a.startsAt) > snapshotAt;
}

/**
 * Alerts an Alertmanager notification would fire again although they started no later than the
 * group's record of their resolve ended. Two stories fit that and the payload cannot tell them
 * apart: a late copy of the firing before the resolve (an HA peer, a retried webhook), or a genuine
 * re-fire of an alert whose start Prometheus restored (a restart with `for` state, or a resolve by
 * Alertmanager's resolve_timeout while Prometheus was away). Only Alertmanager knows which; see
 * late-firing.ts.
 */
export function doubtfulRefires(prev: Pick<AlertGroup, 'view'> | null, n: Notification): string[] {
  if (!prev || n.source !== 'alertmanager' || n.status !== 'firing') return [];
  const out: string[] = [];
  for (const a of n.alerts) {
    if (a.status !== 'firing') continue;
    const shown = prev.view.alerts[a.fingerprint];
    if (shown?.status === 'resolved' && at(a.startsAt) <= at(shown.endsAt)) out.push(a.fingerprint);
  }
  return out;
}
