import { describe, expect, it } from 'vitest';
import { applyNotification, messageKeys } from '../../../src/alerts/group.ts';
import { applyAck, applyUnack } from '../../../src/alerts/group-transitions.ts';
import { alert, applierFor, CFG, snapshot, T0 } from './fixtures.ts';

const apply = applierFor('g1');
const kinds = (a: { intents: { kind: string }[] }) => a.intents.map((i) => i.kind);

describe('one living message per alert group', () => {
  it('posts the first firing notification to the severity channel', () => {
    const first = apply(null, snapshot([alert('api-1')]), T0);
    expect(kinds(first)).toEqual(['post']);
    expect(first.next).toMatchObject({ channel: 'C0CRIT', severity: 'critical', status: 'firing', epoch: 1, version: 1, firedAt: T0 });
  });

  it('changes nothing visible when the same notification arrives again', () => {
    const first = apply(null, snapshot([alert('api-1')]), T0);
    const again = apply(first.next, snapshot([alert('api-1')]), T0 + 1000);
    expect(again.changed).toBe(false);
    expect(again.intents).toEqual([]);
    expect(again.next.version).toBe(1);
  });

  it('updates in place and replies in the thread when an alert joins, then resolves the whole group', () => {
    const first = apply(null, snapshot([alert('api-1')]), T0);
    const joined = apply(first.next, snapshot([alert('api-1'), alert('api-2')]), T0 + 10_000);
    expect(kinds(joined)).toEqual(['update', 'reply']);
    expect(joined.intents[1]).toEqual({ kind: 'reply', lines: ['🔥 Firing: instance=api-2'] });
    expect(joined.next.version).toBe(2);

    const done = apply(joined.next, snapshot([alert('api-1', 'resolved'), alert('api-2', 'resolved')]), T0 + 12 * 60_000);
    expect(done.next.status).toBe('resolved');
    expect(done.next.resolvedAt).toBe(T0 + 12 * 60_000);
    expect(kinds(done)).toEqual(['update', 'reply']);
    expect(done.intents[1]).toEqual({ kind: 'reply', lines: ['✅ Resolved after 12m'] });
  });

  it('keeps at most one thread reply per cooldown window', () => {
    const first = apply(null, snapshot([alert('api-1')]), T0);
    const joined = apply(first.next, snapshot([alert('api-1'), alert('api-2')]), T0 + 1000);
    const third = apply(joined.next, snapshot([alert('api-1'), alert('api-2'), alert('api-3')]), T0 + 2000);
    expect(kinds(third)).toEqual(['update']);
    const later = apply(third.next, snapshot([alert('api-1'), alert('api-2'), alert('api-3'), alert('api-4')]), T0 + 1000 + 60_000);
    expect(kinds(later)).toEqual(['update', 'reply']);
  });

  it('counts a refire within the cooldown as a flap on the same message, later as a new message', () => {
    const first = apply(null, snapshot([alert('api-1')]), T0);
    const resolved = apply(first.next, snapshot([alert('api-1', 'resolved')]), T0 + 120_000);
    const flap = apply(resolved.next, snapshot([alert('api-1')]), T0 + 150_000);
    // The resolve replied at +120 s: within the 60 s reply cooldown nobody acked, so no reply.
    expect(kinds(flap)).toEqual(['update']);
    expect(flap.next).toMatchObject({ epoch: 1, flaps: 1, status: 'firing', resolvedAt: null, attentionSince: T0 + 150_000 });

    const resolvedAgain = apply(flap.next, snapshot([alert('api-1', 'resolved')]), T0 + 160_000);
    const fresh = apply(resolvedAgain.next, snapshot([alert('api-1')]), T0 + 160_000 + 61_000);
    expect(kinds(fresh)).toEqual(['post']);
    expect(fresh.next).toMatchObject({ epoch: 2, flaps: 0, version: 1, ackedBy: null });
    expect(messageKeys.post(fresh.next)).not.toBe(messageKeys.post(first.next));
  });

  it('takes back the acknowledgement of a group that fires again after resolving, and says so with the mention', () => {
    const first = apply(null, snapshot([alert('api-1')]), T0);
    const acked = applyAck(first.next, 1, 'U0ALICE', T0 + 10_000);
    if (acked.kind !== 'acked') throw new Error('not acked');
    const escalatedOnce = { ...acked.next, escalatedAt: T0 + 5000 };
    const resolved = apply(escalatedOnce, snapshot([alert('api-1', 'resolved')]), T0 + 20_000);
    const flap = apply(resolved.next, snapshot([alert('api-1')]), T0 + 30_000);
    expect(flap.next).toMatchObject({ flaps: 1, ackedBy: null, ackedAt: null, escalatedAt: null, attentionSince: T0 + 30_000 });
    // Within the reply cooldown too: someone thought it handled.
    expect(flap.intents).toEqual([
      { kind: 'update' },
      { kind: 'reply', lines: ['🔁 Firing again 10s after it resolved (flap 1). The acknowledgement is cleared.'], mention: true },
    ]);
  });

  it('resolves a firing alert a complete snapshot no longer names, but not one left out by max_alerts', () => {
    const first = apply(null, snapshot([alert('api-1'), alert('api-2')]), T0);
    const truncated = apply(first.next, snapshot([alert('api-1')], { truncatedAlerts: 1 }), T0 + 1000);
    expect(truncated.changed).toBe(false);
    const complete = apply(first.next, snapshot([alert('api-1')]), T0 + 1000);
    expect(complete.next.view.alerts['fp-api-2']?.status).toBe('resolved');
    expect(complete.next.status).toBe('firing');
  });

  it('skips a notification older than one already applied', () => {
    const first = applyNotification(null, snapshot([alert('api-1')]), { groupId: 'g1', notificationId: 10, now: T0, cfg: CFG });
    if ('superseded' in first) throw new Error('first cannot be superseded');
    const older = applyNotification(first.next, snapshot([alert('api-1', 'resolved')]), { groupId: 'g1', notificationId: 9, now: T0, cfg: CFG });
    expect(older).toEqual({ superseded: true });
  });

  it('routes by label first, then by severity, and anything else to the default channel', () => {
    const pay = apply(null, snapshot([alert('api-1')], { commonLabels: { alertname: 'X', severity: 'critical', team: 'payments' } }), T0);
    expect(pay.next.channel).toBe('C0PAY');
    const info = apply(null, snapshot([alert('api-1')], { commonLabels: { alertname: 'X', severity: 'Info' } }), T0);
    expect(info.next).toMatchObject({ channel: 'C0DEFAULT', severity: 'info' });
  });

  it('shows nothing for a group first seen resolved', () => {
    const first = apply(null, snapshot([alert('api-1', 'resolved')]), T0);
    expect(first.intents).toEqual([]);
    expect(first.next.status).toBe('resolved');
  });
});

describe('acknowledge', () => {
  const firing = () => apply(null, snapshot([alert('api-1')]), T0).next;

  it('records who and when, once', () => {
    const g = firing();
    const acked = applyAck(g, 1, 'alice', T0 + 90_000);
    expect(acked).toMatchObject({ kind: 'acked', next: { ackedBy: 'alice', ackedAt: T0 + 90_000, version: 2 } });
    if (acked.kind !== 'acked') throw new Error('not acked');
    expect(applyAck(acked.next, 1, 'bob', T0 + 100_000)).toEqual({ kind: 'already_acked', by: 'alice', at: T0 + 90_000 });
  });

  it('takes an acknowledgement back and starts escalation over, on the current firing only', () => {
    const acked = applyAck(firing(), 1, 'U0ALICE', T0 + 90_000);
    if (acked.kind !== 'acked') throw new Error('not acked');
    const g = { ...acked.next, escalatedAt: T0 + 60_000 };
    const unacked = applyUnack(g, 1, T0 + 120_000);
    expect(unacked).toMatchObject({ kind: 'unacked', was: 'U0ALICE', next: { ackedBy: null, ackedAt: null, escalatedAt: null, attentionSince: T0 + 120_000, version: g.version + 1 } });
    if (unacked.kind !== 'unacked') throw new Error('not unacked');
    expect(applyUnack(unacked.next, 1, T0 + 130_000)).toEqual({ kind: 'not_acked' });
    expect(applyUnack(g, 2, T0 + 130_000)).toEqual({ kind: 'other_epoch' });
    const resolved = apply(g, snapshot([alert('api-1', 'resolved')]), T0 + 125_000).next;
    expect(applyUnack(resolved, 1, T0 + 130_000)).toEqual({ kind: 'resolved', at: T0 + 125_000 });
  });

  it('never reopens a group that resolved meanwhile, nor acknowledges a newer epoch', () => {
    const resolved = apply(firing(), snapshot([alert('api-1', 'resolved')]), T0 + 1000).next;
    expect(applyAck(resolved, 1, 'alice', T0 + 2000)).toEqual({ kind: 'resolved', at: T0 + 1000 });
    expect(applyAck(firing(), 2, 'alice', T0 + 2000)).toEqual({ kind: 'other_epoch' });
  });
});

describe('a group tracked while no replica could post', () => {
  it('is posted on the next notification, even a repeat that changes nothing', () => {
    const first = applyNotification(null, snapshot([alert('api-1')]), { groupId: 'g1', notificationId: 500, now: T0, cfg: CFG });
    if ('superseded' in first) throw new Error('superseded');
    // Applied where no outbox was: no message key.
    const repeat = applyNotification(first.next, snapshot([alert('api-1')]), { groupId: 'g1', notificationId: 501, now: T0 + 60_000, cfg: CFG });
    if ('superseded' in repeat) throw new Error('superseded');
    expect(repeat.intents).toEqual([{ kind: 'post' }]);
    expect(repeat.changed).toBe(false);
    const posted = { ...first.next, messageKey: messageKeys.post(first.next) };
    const again = applyNotification(posted, snapshot([alert('api-1')]), { groupId: 'g1', notificationId: 502, now: T0 + 60_000, cfg: CFG });
    expect('superseded' in again ? null : again.intents).toEqual([]);
  });
});

describe('a group counted in a storm summary', () => {
  it('gets a message of its own when it fires again after resolving, even within its cooldown', () => {
    const first = applyNotification(null, snapshot([alert('api-1')]), { groupId: 'g1', notificationId: 600, now: T0, cfg: CFG });
    if ('superseded' in first) throw new Error('superseded');
    const inStorm = { ...first.next, stormId: 7 };
    const resolved = applyNotification(inStorm, snapshot([alert('api-1', 'resolved')]), { groupId: 'g1', notificationId: 601, now: T0 + 1000, cfg: CFG });
    if ('superseded' in resolved) throw new Error('superseded');
    const again = applyNotification(resolved.next, snapshot([alert('api-1')]), { groupId: 'g1', notificationId: 602, now: T0 + 2000, cfg: CFG });
    if ('superseded' in again) throw new Error('superseded');
    expect(again.intents).toEqual([{ kind: 'post' }]);
    expect(again.next).toMatchObject({ epoch: 2, stormId: null, messageKey: null });
  });
});
