import { describeError } from '../core/errors.ts';
import { doubtfulRefires } from './alert-time.ts';
import type { AlertmanagerReader } from './alertmanager-api.ts';
import type { AlertGroup } from './group.ts';
import type { Notification } from './notification.ts';

/**
 * A firing after a resolve that started before that resolve ended is either a late copy of the
 * firing before it (an HA peer that missed the resolve: applied, it would re-open the group and
 * nothing would ever resolve it again) or a genuine re-fire whose start Prometheus restored. The
 * payload cannot tell them apart, so Vigil asks Alertmanager whether the alert is active now:
 *
 * - active → a genuine re-fire: applied;
 * - not active → a late copy: changes nothing (counted as `stale`, noted on the stored row);
 * - Alertmanager cannot be asked → held (not dropped) and asked again every few seconds; a newer
 *   notification of the group supersedes it meanwhile; still unanswered after the hold, it is
 *   applied, since a missed alert costs more than a doubtful one;
 * - no ALERTMANAGER_URL → applied at once (nobody to ask; waiting would only delay a real page).
 */
export type LateFiringVerdict =
  | { kind: 'apply'; unconfirmed?: string }
  | { kind: 'stale'; why: string }
  | { kind: 'hold'; why: string };

/** How long a doubtful firing waits for Alertmanager to answer before it is shown anyway. */
export const LATE_FIRING_HOLD_MS = 2 * 60_000;
/** How soon a held notification asks again. */
export const LATE_FIRING_RETRY_S = 5;

export interface LateFiringJudge {
  judge(prev: AlertGroup | null, n: Notification, receivedAt: number): Promise<LateFiringVerdict>;
}

export function createLateFiringJudge(deps: { alertmanager: Pick<AlertmanagerReader, 'matching'> | null; holdMs?: number; now?: () => number }): LateFiringJudge {
  const holdMs = deps.holdMs ?? LATE_FIRING_HOLD_MS;
  const now = deps.now ?? Date.now;
  return {
    async judge(prev, n, receivedAt) {
      const doubtful = doubtfulRefires(prev, n);
      if (doubtful.length === 0) return { kind: 'apply' };
      const am = deps.alertmanager;
      if (!am) return { kind: 'apply', unconfirmed: 'no ALERTMANAGER_URL to ask' };
      let active: Set<string>;
      try {
        active = new Set((await am.matching(n.groupLabels)).map((a) => a.fingerprint));
      } catch (err) {
        const why = describeError(err);
        if (now() - receivedAt < holdMs) return { kind: 'hold', why: `held: it may be a late copy and Alertmanager cannot say (${why})` };
        return { kind: 'apply', unconfirmed: why };
      }
      if (doubtful.some((fp) => active.has(fp))) return { kind: 'apply' };
      return { kind: 'stale', why: `stale: a late copy of an earlier firing (Alertmanager has ${doubtful.length === 1 ? 'this alert' : 'these alerts'} resolved)` };
    },
  };
}
