import { describe, expect, it } from 'vitest';
import { splitHeartbeat } from '../../../src/alerts/deadman.ts';
import { applyNotification, type AlertGroup } from '../../../src/alerts/group.ts';
import { applyEscalation } from '../../../src/alerts/group-transitions.ts';
import { stormReply } from '../../../src/alerts/storm.ts';
import { blockText, validateBlocks } from '../../support/slack-api-server.ts';
import { renderBlocks } from '../../../src/slack/blocks.ts';
import { alert, CFG, snapshot, T0 } from './fixtures.ts';

function firing(name = 'HighErrorRate', over: Partial<AlertGroup> = {}): AlertGroup {
  const n = snapshot([alert('api-1')], { commonLabels: { alertname: name, severity: 'critical' } });
  const applied = applyNotification(null, n, { groupId: name, notificationId: 1, now: T0, cfg: CFG });
  if ('superseded' in applied) throw new Error('superseded');
  return { ...applied.next, messageKey: `alert:${name}:1`, ...over };
}

describe('escalation', () => {
  const after = 15 * 60_000;
  it('escalates an unacknowledged critical group once it is overdue, once', () => {
    expect(applyEscalation(firing(), T0 + after - 1, after, ['critical'])).toBeNull();
    const due = applyEscalation(firing(), T0 + after, after, ['critical']);
    expect(due?.intents).toEqual([{ kind: 'update' }, { kind: 'escalate', minutes: 15 }]);
    expect(due?.next.escalatedAt).toBe(T0 + after);
    expect(applyEscalation(due?.next as AlertGroup, T0 + 2 * after, after, ['critical'])).toBeNull();
  });

  it('counts from when the group last needed someone (fired again, un-acknowledged), not from its first post', () => {
    const back = firing('D', { attentionSince: T0 + 10 * 60_000 });
    expect(applyEscalation(back, T0 + after, after, ['critical'])).toBeNull();
    expect(applyEscalation(back, T0 + 10 * 60_000 + after, after, ['critical'])).not.toBeNull();
  });

  it('never escalates a silenced group, and does once its silence has ended', () => {
    const silence = { source: 'alertmanager' as const, ids: ['s1'], createdBy: 'U0BOB', endsAt: T0 + 2 * after, comment: 'deploy', matchers: 'env="staging"' };
    const g = firing('E', { silence });
    expect(applyEscalation(g, T0 + after, after, ['critical'])).toBeNull();
    expect(applyEscalation(g, T0 + 2 * after, after, ['critical'])).not.toBeNull();
  });

  it('never escalates an acknowledged, resolved or other-severity group', () => {
    expect(applyEscalation(firing('A', { ackedBy: 'alice', ackedAt: T0 }), T0 + after, after, ['critical'])).toBeNull();
    expect(applyEscalation(firing('B', { status: 'resolved' }), T0 + after, after, ['critical'])).toBeNull();
    expect(applyEscalation(firing('C', { severity: 'warning' }), T0 + after, after, ['critical'])).toBeNull();
  });
});

describe("dead-man's switch heartbeat", () => {
  it('takes the heartbeat out of a notification and keeps the rest', () => {
    const watchdog = alert('am', 'firing', { labels: { alertname: 'Watchdog', severity: 'none' }, fingerprint: 'wd' });
    expect(splitHeartbeat(snapshot([watchdog]), 'Watchdog')).toEqual({ heartbeat: true, rest: null });
    const mixed = splitHeartbeat(snapshot([watchdog, alert('api-1')]), 'Watchdog');
    expect(mixed.heartbeat).toBe(true);
    expect(mixed.rest?.alerts.map((a) => a.fingerprint)).toEqual(['fp-api-1']);
    expect(splitHeartbeat(snapshot([alert('api-1')]), 'Watchdog')).toMatchObject({ heartbeat: false });
  });
});

describe('storm summary', () => {
  it('counts firing alerts by alert name and severity, most severe first', () => {
    const groups = [firing('DiskFull', { severity: 'warning' }), firing('ApiDown'), firing('ApiDown2', { status: 'resolved' })];
    const text = blockText(renderBlocks(stormReply(T0, null, groups, T0 + 60_000)).blocks);
    expect(text).toContain('Alert storm');
    expect(text).toContain('2 of 3 firing');
    expect(text.indexOf('ApiDown')).toBeLessThan(text.indexOf('DiskFull'));
    expect(text).toMatch(/critical\s+ApiDown\s+1\s+1/);
  });

  it('says when the storm is over', () => {
    expect(stormReply(T0, T0 + 120_000, [firing()], T0 + 120_000).title).toContain('over');
  });
});

describe('storm summary size', () => {
  it('lists every alert name of a 300-group storm within Slack limits', () => {
    const groups = Array.from({ length: 300 }, (_, i) => firing(`StormAlertName${String(i).padStart(3, '0')}`, { severity: i % 2 ? 'warning' : 'critical' }));
    const { blocks } = renderBlocks(stormReply(T0, null, groups, T0));
    expect(validateBlocks(blocks)).toEqual([]);
    expect(blocks.length).toBeLessThanOrEqual(50);
    const text = blockText(blocks);
    for (let i = 0; i < 300; i++) expect(text).toContain(`StormAlertName${String(i).padStart(3, '0')}`);
  });
});
