/**
 * Alert time against arrival order: an older snapshot arriving late (an HA peer, a retried
 * webhook) changes nothing a group shows; a firing after a resolve that started before that
 * resolve ended is flagged as doubtful, for Alertmanager to settle.
 */
import { describe, expect, it } from 'vitest';
import { doubtfulRefires, olderThanShown, snapshotTime } from '../../../src/alerts/alert-time.ts';
import { alert, applierFor, snapshot, T0 } from './fixtures.ts';

const apply = applierFor('g-time');
const iso = (t: number) => new Date(t).toISOString();
const MIN = 60_000;

describe('a late copy of an older snapshot changes nothing', () => {
  it('a resolve of the earlier firing, arriving after the group fired again, leaves it firing', () => {
    const first = apply(null, snapshot([alert('api-1')]), T0);
    const resolve = snapshot([alert('api-1', 'resolved', { endsAt: iso(T0 + 10 * MIN) })]);
    const resolved = apply(first.next, resolve, T0 + 10 * MIN);
    const again = apply(resolved.next, snapshot([alert('api-1', 'firing', { startsAt: iso(T0 + 20 * MIN) })]), T0 + 20 * MIN);
    expect(again.next).toMatchObject({ status: 'firing', epoch: 2 });

    // The first resolve again (a proxy's retry): it ended before the firing shown started.
    const late = apply(again.next, resolve, T0 + 21 * MIN);
    expect(late.next.status).toBe('firing');
    expect(late.changed).toBe(false);
    expect(late.intents).toEqual([]);
  });

  it('an older snapshot that does not name a newer alert does not resolve it', () => {
    const older = snapshot([alert('api-1')]);
    const first = apply(null, older, T0);
    const both = apply(first.next, snapshot([alert('api-1'), alert('api-2', 'firing', { startsAt: iso(T0 + 5 * MIN) })]), T0 + 5 * MIN);
    const late = apply(both.next, older, T0 + 6 * MIN);
    expect(late.next.view.alerts['fp-api-2']?.status).toBe('firing');
    expect(late.changed).toBe(false);

    // A snapshot taken after api-2 started that leaves it out does resolve it.
    const later = apply(late.next, snapshot([alert('api-1', 'firing', { startsAt: iso(T0 + 7 * MIN) })]), T0 + 7 * MIN);
    expect(later.next.view.alerts['fp-api-2']?.status).toBe('resolved');
  });

  it('a copy of an earlier firing does not move the start shown back', () => {
    const newer = apply(null, snapshot([alert('api-1', 'firing', { startsAt: iso(T0 + 30 * MIN) })]), T0 + 30 * MIN);
    const late = apply(newer.next, snapshot([alert('api-1')]), T0 + 31 * MIN);
    expect(late.next.view.alerts['fp-api-1']?.startsAt).toBe(iso(T0 + 30 * MIN));
    expect(late.changed).toBe(false);
  });

  it('a resolve that ended after the firing shown started still resolves it', () => {
    const first = apply(null, snapshot([alert('api-1')]), T0);
    const done = apply(first.next, snapshot([alert('api-1', 'resolved', { endsAt: iso(T0 + MIN) })]), T0 + MIN);
    expect(done.next.status).toBe('resolved');
  });
});

describe('what counts as older', () => {
  it('never judges unreadable times older: arrival order decides', () => {
    const shown = alert('api-1', 'firing', { startsAt: 'not a time' });
    expect(olderThanShown(shown, alert('api-1', 'resolved'))).toBe(false);
    expect(olderThanShown(alert('api-1'), alert('api-1', 'resolved', { endsAt: 'garbage' }))).toBe(false);
  });

  it('takes a snapshot naming no alert as timeless', () => {
    expect(snapshotTime({ alerts: [] })).toBe(Infinity);
    expect(snapshotTime({ alerts: [alert('a'), alert('b', 'resolved', { endsAt: iso(T0 + MIN) })] })).toBe(T0 + MIN);
  });
});

describe('doubtful re-fires', () => {
  const resolvedGroup = () => {
    const first = apply(null, snapshot([alert('api-1'), alert('api-2')]), T0);
    return apply(first.next, snapshot([alert('api-1', 'resolved', { endsAt: iso(T0 + 10 * MIN) }), alert('api-2', 'resolved', { endsAt: iso(T0 + 10 * MIN) })]), T0 + 10 * MIN).next;
  };

  it('flags a firing that started before the resolve ended (a late copy or a restored start)', () => {
    expect(doubtfulRefires(resolvedGroup(), snapshot([alert('api-1'), alert('api-2', 'firing', { startsAt: iso(T0 + 11 * MIN) })]))).toEqual(['fp-api-1']);
  });

  it('does not flag a firing that started after the resolve, nor Vigil’s own notifications', () => {
    const g = resolvedGroup();
    expect(doubtfulRefires(g, snapshot([alert('api-1', 'firing', { startsAt: iso(T0 + 11 * MIN) })]))).toEqual([]);
    expect(doubtfulRefires(g, snapshot([alert('api-1')], { source: 'vigil' }))).toEqual([]);
    expect(doubtfulRefires(null, snapshot([alert('api-1')]))).toEqual([]);
  });
});
