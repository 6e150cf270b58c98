import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alertmanagerPayloadSchema, fromAlertmanager } from '../../../src/alerts/alertmanager.ts';
import { applyNotification, messageKeys, type AlertGroup } from '../../../src/alerts/group.ts';
import { groupIdOf, type Notification } from '../../../src/alerts/notification.ts';
import { CFG } from './fixtures.ts';

/** A body captured from the real Alertmanager 0.25 (test/fixtures/alertmanager/README.md). */
function captured(name: string): Notification {
  const raw: unknown = JSON.parse(readFileSync(new URL(`../../fixtures/alertmanager/${name}`, import.meta.url), 'utf8'));
  return fromAlertmanager(alertmanagerPayloadSchema.parse(raw));
}

describe("Alertmanager's real notifications, in the order it sent them", () => {
  it('post, then one alert resolving in the thread, then the whole group resolved in place', () => {
    const sequence = ['firing-two.json', 'resolved-one-of-two.json', 'resolved-all.json'].map(captured);
    const ids = new Set(sequence.map(groupIdOf));
    expect(ids.size).toBe(1);
    let group: AlertGroup | null = null;
    const seen: string[][] = [];
    let now = Date.parse(sequence[0]?.alerts[0]?.startsAt ?? '') + 1000;
    sequence.forEach((n, i) => {
      const applied = applyNotification(group, n, { groupId: [...ids][0] as string, notificationId: i + 1, now, cfg: CFG });
      if ('superseded' in applied) throw new Error('superseded');
      group = applied.intents.some((x) => x.kind === 'post') ? { ...applied.next, messageKey: messageKeys.post(applied.next) } : applied.next;
      seen.push(applied.intents.map((x) => (x.kind === 'reply' ? `reply: ${x.lines.join(' | ')}` : x.kind)));
      now += 10 * 60_000;
    });
    expect(seen).toEqual([['post'], ['update', 'reply: ✅ Resolved: instance=api-1:8080'], ['update', 'reply: ✅ Resolved after 20m']]);
    const last = group as AlertGroup | null;
    expect(last?.status).toBe('resolved');
    expect(Object.values(last?.view.alerts ?? {}).map((a) => a.status)).toEqual(['resolved', 'resolved']);
  });

  it('parses the nanosecond times and Go zero endsAt of a Prometheus-style alert', () => {
    const n = captured('firing-one.json');
    expect(n.alerts[0]?.endsAt).toBeNull();
    expect(n.alerts[0]?.startsAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(n.alerts[0]?.annotations.runbook_url).toBe('https://runbooks.example.com/postgres/replication-lag');
  });
});
