import { silenced, type AlertGroup, type GroupSilence, type Intent } from './group.ts';

/**
 * What a person or the clock does to a group besides notifications: escalate, silence, acknowledge.
 * Pure, like applyNotification, and decided under the group's lock by the caller.
 */

/**
 * Escalate a firing critical group nobody acknowledged in time: once per epoch, decided under the
 * group's lock (an ack that just landed wins). Null when it is not (or no longer) due.
 */
export function applyEscalation(g: AlertGroup, now: number, afterMs: number, severities: readonly string[]): { next: AlertGroup; intents: Intent[] } | null {
  if (g.status !== 'firing' || g.ackedBy !== null || g.escalatedAt !== null || !severities.includes(g.severity)) return null;
  // Silenced on purpose: nobody is to be paged for it until the silence ends.
  if (silenced(g, now)) return null;
  if (now - g.attentionSince < afterMs) return null;
  const next = { ...g, escalatedAt: now, version: g.version + 1 };
  return { next, intents: [{ kind: 'update' }, { kind: 'escalate', minutes: Math.round(afterMs / 60_000) }] };
}

/**
 * A silence started, changed or ended on a firing group. Ending while it still fires is news for
 * on-call: a thread reply with the mention, and escalation counts from now.
 */
export function applySilence(g: AlertGroup, silence: GroupSilence | null, now: number): { next: AlertGroup; intents: Intent[] } | null {
  if (g.status !== 'firing' || sameSilence(g.silence, silence)) return null;
  const ended = silence === null;
  const next: AlertGroup = { ...g, silence, version: g.version + 1, ...(ended ? { attentionSince: now } : {}) };
  const intents: Intent[] = [{ kind: 'update' }];
  if (ended) intents.push({ kind: 'reply', lines: ['🔔 The silence ended and the group still fires.'], mention: true });
  return { next, intents };
}

function sameSilence(a: GroupSilence | null, b: GroupSilence | null): boolean {
  if (a === null || b === null) return a === b;
  return a.endsAt === b.endsAt && a.ids.join() === b.ids.join() && a.comment === b.comment && a.createdBy === b.createdBy && a.matchers === b.matchers;
}

export type AckOutcome =
  | { kind: 'acked'; next: AlertGroup }
  | { kind: 'already_acked'; by: string; at: number }
  | { kind: 'resolved'; at: number | null }
  | { kind: 'other_epoch' };

export type UnackOutcome =
  | { kind: 'unacked'; next: AlertGroup; was: string }
  | { kind: 'not_acked' }
  | { kind: 'resolved'; at: number | null }
  | { kind: 'other_epoch' };

/**
 * Acknowledge the group's firing epoch `epoch` as `by` (a user id). Checked against the current
 * state under the group's lock: a click racing an auto-resolve or a new epoch cannot reopen or
 * mislabel anything.
 */
export function applyAck(g: AlertGroup, epoch: number, by: string, now: number): AckOutcome {
  if (g.epoch !== epoch) return { kind: 'other_epoch' };
  if (g.status === 'resolved') return { kind: 'resolved', at: g.resolvedAt };
  if (g.ackedBy !== null) return { kind: 'already_acked', by: g.ackedBy, at: g.ackedAt ?? now };
  return { kind: 'acked', next: { ...g, ackedBy: by, ackedAt: now, version: g.version + 1 } };
}

/**
 * Take an acknowledgement back (a hand-over, a mistaken click): the group needs someone again, so
 * escalation starts over from now.
 */
export function applyUnack(g: AlertGroup, epoch: number, now: number): UnackOutcome {
  if (g.epoch !== epoch) return { kind: 'other_epoch' };
  if (g.status === 'resolved') return { kind: 'resolved', at: g.resolvedAt };
  if (g.ackedBy === null) return { kind: 'not_acked' };
  return { kind: 'unacked', was: g.ackedBy, next: { ...g, ackedBy: null, ackedAt: null, escalatedAt: null, attentionSince: now, version: g.version + 1 } };
}
