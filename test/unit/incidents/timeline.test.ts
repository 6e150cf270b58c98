import { describe, expect, it } from 'vitest';
import { channelNameAttempt, incidentChannelName } from '../../../src/incidents/channel-name.ts';
import { responseTimes } from '../../../src/incidents/response-times.ts';
import { itemsFromGroup, orderTimeline, type TimelineItem } from '../../../src/incidents/timeline.ts';
import { span } from '../../../src/incidents/writeup.ts';

const item = (key: string, at: number, kind: TimelineItem['kind'], auditId: number | null = null): TimelineItem => ({ key, at, kind, text: key, actor: null, auditId });

describe('the timeline', () => {
  it('is oldest first whatever order its sources gave, an alert firing before anything in the same millisecond and the resolution last', () => {
    const items = [
      item('resolve', 5000, 'incident.resolve', 9),
      item('update', 3000, 'incident.update', 7),
      item('x alert resolved', 5000, 'alert.resolved'),
      item('declare', 2000, 'incident.declare', 4),
      item('ack', 2000, 'alert.ack', 5),
      item('z fired', 2000, 'alert.fired'),
      item('a second update', 3000, 'incident.update', 8),
    ];
    expect(orderTimeline(items).map((i) => i.key)).toEqual(['z fired', 'declare', 'ack', 'update', 'a second update', 'x alert resolved', 'resolve']);
  });

  it('keeps the audit trail’s order for events in the same millisecond, whatever their kind', () => {
    const items = [item('update first', 1000, 'incident.update', 3), item('lead after', 1000, 'incident.lead', 4), item('ack before both', 1000, 'alert.ack', 2)];
    expect(orderTimeline(items).map((i) => i.key)).toEqual(['ack before both', 'update first', 'lead after']);
  });
});

describe("a linked group's items", () => {
  it('are its firing and resolving, plus alerts that joined later or resolved before the rest', () => {
    const alerts = [
      { fingerprint: 'a', label: 'instance=api-1', startsAt: 1000, endsAt: 9000 },
      { fingerprint: 'b', label: 'instance=api-2', startsAt: 4000, endsAt: 6000 },
      { fingerprint: 'c', label: 'instance=api-3', startsAt: 1000, endsAt: 9000 },
    ];
    const firing = itemsFromGroup({ groupId: 'g', epoch: 2, title: 'ApiDown', firedAt: 1000, resolvedAt: null, alerts: alerts.map((a) => ({ ...a, endsAt: a.fingerprint === 'b' ? 6000 : null })) });
    expect(firing.map((i) => [i.at, i.text])).toEqual([
      [1000, '🔥 ApiDown fired'],
      [4000, '🔥 ApiDown: instance=api-2 firing too'],
      [6000, '✅ ApiDown: instance=api-2 resolved'],
    ]);
    const resolved = itemsFromGroup({ groupId: 'g', epoch: 2, title: 'ApiDown', firedAt: 1000, resolvedAt: 9500, alerts });
    expect(resolved.map((i) => i.text)).toEqual(['🔥 ApiDown fired', '🔥 ApiDown: instance=api-2 firing too', '✅ ApiDown: instance=api-2 resolved', '✅ ApiDown resolved']);
    expect(new Set(resolved.map((i) => i.key)).size).toBe(resolved.length);
  });
});

describe('time to acknowledge and to resolve', () => {
  it('counts from the first alert and from the declaration; an ack before the declaration is "before"', () => {
    const groups = [
      { groupId: 'a', epoch: 1, title: 'A', firedAt: 1_000, resolvedAt: null },
      { groupId: 'b', epoch: 1, title: 'B', firedAt: 500, resolvedAt: null },
    ];
    const t = responseTimes({ groups, items: [item('ack', 61_000, 'alert.ack'), item('ack2', 90_000, 'alert.ack')], declaredAt: 120_500, resolvedAt: 600_500 });
    expect(t).toMatchObject({ firstAlertAt: 500, firstAckAt: 61_000, ackFromAlertMs: 60_500, ackFromDeclareMs: -59_500, resolveFromAlertMs: 600_000, resolveFromDeclareMs: 480_000 });
    expect(span(t.ackFromDeclareMs)).toBe('1m before');
    expect(span(t.resolveFromAlertMs)).toBe('10m');
    expect(responseTimes({ groups: [], items: [], declaredAt: 0, resolvedAt: null })).toMatchObject({ ackFromAlertMs: null, resolveFromDeclareMs: null });
  });
});

describe('channel names', () => {
  it('are the prefix, the day and the title as Slack allows names, with room for a suffix', () => {
    const at = new Date('2026-12-06T23:59:00Z');
    expect(incidentChannelName({ prefix: 'inc', declaredAt: at, title: 'Checkout errors!', id: 7 })).toBe('inc-20261206-checkout-errors');
    expect(incidentChannelName({ prefix: 'inc', declaredAt: at, title: 'Café — Zürich DB 5xx', id: 7 })).toBe('inc-20261206-cafe-zurich-db-5xx');
    expect(incidentChannelName({ prefix: 'inc', declaredAt: at, title: '🔥🔥', id: 7 })).toBe('inc-20261206-7');
    const long = incidentChannelName({ prefix: 'inc', declaredAt: at, title: 'word '.repeat(40), id: 7 });
    expect(long.length).toBeLessThanOrEqual(76);
    expect(long).toMatch(/^[a-z0-9_-]+[a-z0-9]$/);
    expect(channelNameAttempt('inc-x', 0)).toBe('inc-x');
    expect(channelNameAttempt('inc-x', 2)).toBe('inc-x-3');
  });
});
