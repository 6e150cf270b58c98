/** The living message's link buttons outlive the alert that carried them. */
import { describe, expect, it } from 'vitest';
import { applyNotification, type AlertGroup } from '../../../src/alerts/group.ts';
import { groupReply } from '../../../src/alerts/message.ts';
import type { AlertInstance } from '../../../src/alerts/notification.ts';
import { alert, CFG, snapshot, T0 } from './fixtures.ts';

const RUNBOOK = 'https://runbooks.example.com/high-error-rate';
const SOURCE = 'http://prometheus:9090/graph?g0.expr=api1';

// Only api-1 carries the runbook and the source, so they are not common annotations.
const api1 = (status: 'firing' | 'resolved') =>
  alert('api-1', status, { annotations: { summary: 'Error rate above 5%', runbook_url: RUNBOOK }, generatorURL: SOURCE });
const api2 = (status: 'firing' | 'resolved') => alert('api-2', status, { generatorURL: null });

/** The group after each snapshot in turn, as the processor applies them. */
function applied(...snapshots: AlertInstance[][]): AlertGroup {
  let g: AlertGroup | null = null;
  snapshots.forEach((alerts, i) => {
    const r = applyNotification(g, snapshot(alerts), { groupId: 'g1', notificationId: i + 1, now: T0 + i * 60_000, cfg: CFG });
    if ('superseded' in r) throw new Error('superseded');
    g = r.next;
  });
  if (!g) throw new Error('no snapshot');
  return g;
}

const linksOf = (g: AlertGroup) => groupReply(g, T0 + 10 * 60_000).links;

describe('links on the living message', () => {
  it('keeps the Runbook and Source links when the alert that carried them resolves while another fires', () => {
    expect(linksOf(applied([api1('firing'), api2('firing')]))).toEqual([
      { label: 'Runbook', url: RUNBOOK },
      { label: 'Source', url: SOURCE },
    ]);
    const g = applied([api1('firing'), api2('firing')], [api1('resolved'), api2('firing')]);
    expect(g.status).toBe('firing');
    expect(linksOf(g)).toEqual([
      { label: 'Runbook', url: RUNBOOK },
      { label: 'Source', url: SOURCE },
    ]);
  });

  it('keeps them once the whole group has resolved, whichever alert resolved last', () => {
    const g = applied([api2('firing'), api1('firing')], [api2('firing'), api1('resolved')], [api2('resolved'), api1('resolved')]);
    expect(g.status).toBe('resolved');
    expect(linksOf(g)).toEqual([
      { label: 'Runbook', url: RUNBOOK },
      { label: 'Source', url: SOURCE },
    ]);
  });

  it('prefers the common annotations, then firing alerts, and skips what is not an http(s) link', () => {
    const firingRunbook = alert('api-3', 'firing', { annotations: { summary: 's', runbook_url: 'https://runbooks.example.com/firing' } });
    const bad = alert('api-4', 'firing', { annotations: { summary: 's', runbook_url: 'javascript:alert(1)' } });
    const g = applied([api1('firing'), bad, firingRunbook], [api1('resolved'), bad, firingRunbook]);
    expect(linksOf(g)?.find((l) => l.label === 'Runbook')?.url).toBe('https://runbooks.example.com/firing');
    const common = { ...g, view: { ...g.view, commonAnnotations: { runbook_url: 'https://runbooks.example.com/common' } } };
    expect(linksOf(common)?.find((l) => l.label === 'Runbook')?.url).toBe('https://runbooks.example.com/common');
  });
});
