import { describe, expect, it } from 'vitest';
import { applyNotification, type AlertGroup } from '../../../src/alerts/group.ts';
import { groupMessage as neutralGroupMessage, replyMessage as neutralReplyMessage } from '../../../src/alerts/group-messages.ts';
import { renderChannelMessage } from '../../../src/slack/channel-message.ts';
import { validateBlocks, blockText } from '../../support/slack-api-server.ts';
import { alert, CFG, snapshot, T0 } from './fixtures.ts';

function group(alerts = [alert('api-1')], over: Partial<AlertGroup> = {}): AlertGroup {
  const applied = applyNotification(null, snapshot(alerts), { groupId: 'g1', notificationId: 1, now: T0, cfg: CFG });
  if ('superseded' in applied) throw new Error('superseded');
  return { ...applied.next, ...over };
}

// As the outbox hands them to Slack.
const groupMessage = (...args: Parameters<typeof neutralGroupMessage>) => renderChannelMessage(neutralGroupMessage(...args));
const replyMessage = (lines: string[]) => renderChannelMessage(neutralReplyMessage(lines));

describe('the living message', () => {
  it('shows severity, summary, description, since when, the alerts and an Acknowledge button', () => {
    const m = groupMessage(group([alert('api-1'), alert('api-2')]), T0 + 60_000);
    const text = blockText(m.blocks);
    expect(text).toContain('🔥 CRITICAL · HighErrorRate');
    expect(text).toContain('Error rate above 5%');
    expect(text).toContain('The API answers 5xx');
    expect(text).toContain('2026-11-26 10:00 UTC');
    expect(text).toContain('instance=api-2');
    expect(text).toContain('Acknowledge');
    expect(validateBlocks(m.blocks)).toEqual([]);
    const buttons = JSON.stringify(m.blocks);
    expect(buttons).toContain('"value":"g1:1"');
    expect(buttons).toContain('"url":"http://prometheus:9090/graph?g0.expr=x"');
  });

  it('mentions the configured user group in the first post only when asked, and escapes alert text', () => {
    expect(groupMessage(group(), T0, { mention: 'S0ONCALL' }).text.startsWith('<!subteam^S0ONCALL> ')).toBe(true);
    expect(groupMessage(group(), T0).text).not.toContain('subteam');
    const evil = group([alert('x', 'firing', { annotations: { summary: '<!channel> & co' } })]);
    const m = groupMessage({ ...evil, view: { ...evil.view, commonAnnotations: {} } }, T0);
    expect(m.text).toContain('&lt;!channel&gt; &amp; co');
    expect(JSON.stringify(m.blocks)).not.toContain('<!channel>');
    expect(replyMessage(['🔥 Firing: instance=<!here>']).text).toBe('🔥 Firing: instance=&lt;!here&gt;');
  });

  it('turns resolved with the duration and drops the Acknowledge button', () => {
    const g = group([alert('api-1', 'resolved')], { status: 'resolved', resolvedAt: T0 + 12 * 60_000 });
    const text = blockText(groupMessage(g, T0 + 13 * 60_000).blocks);
    expect(text).toContain('✅ RESOLVED · HighErrorRate');
    expect(text).toContain('lasted 12m');
    expect(text).not.toContain('Acknowledge');
  });

  it('shows who acknowledged as a mention, and offers Unacknowledge instead of Acknowledge', () => {
    const blocks = groupMessage(group(undefined, { ackedBy: 'U0ALICE', ackedAt: T0 + 90_000 }), T0 + 100_000).blocks;
    const text = blockText(blocks);
    expect(text).toContain('Acknowledged by <@U0ALICE> at 2026-11-26 10:01 UTC');
    expect(text).toMatch(/^Unacknowledge$/m);
    expect(text).not.toMatch(/^Acknowledge$/m);
    // A name from before acknowledgements kept the user id is shown as text, never as broken syntax.
    expect(blockText(groupMessage(group(undefined, { ackedBy: 'alice', ackedAt: T0 + 90_000 }), T0 + 100_000).blocks)).toContain('Acknowledged by alice at');
  });

  it("offers Resolve on Vigil's own rule alerts only, never on Alertmanager's", () => {
    const rule = group(undefined, { source: 'vigil', groupKey: 'vigil-rule:EmailBacklog' });
    expect(blockText(groupMessage(rule, T0).blocks)).toMatch(/^Resolve$/m);
    expect(blockText(groupMessage(group(), T0).blocks)).not.toMatch(/^Resolve$/m);
    // The dead-man's switch clears itself when the heartbeat is back.
    expect(blockText(groupMessage(group(undefined, { source: 'vigil', groupKey: 'vigil-deadman:Watchdog' }), T0).blocks)).not.toMatch(/^Resolve$/m);
  });

  it('shows a silence: by whom, until when, why, what it matches; not once the group resolved', () => {
    const silence = { source: 'alertmanager' as const, ids: ['s1'], createdBy: 'U0BOB', endsAt: T0 + 3_600_000, comment: 'staging deploy', matchers: 'alertname="HighErrorRate", env="staging"' };
    const text = blockText(groupMessage(group(undefined, { silence }), T0 + 60_000).blocks);
    expect(text).toContain('Silenced in Alertmanager by <@U0BOB> until 2026-11-26 11:00 UTC: “staging deploy” (alertname="HighErrorRate", env="staging")');
    // Expired: not shown.
    expect(blockText(groupMessage(group(undefined, { silence }), T0 + 3_600_001).blocks)).not.toContain('Silenced');
  });
});
