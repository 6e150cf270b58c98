import { describe, expect, it } from 'vitest';
import type { AmAlert, AmSilence } from '../../../src/alerts/alertmanager-api.ts';
import { applyNotification, type AlertGroup } from '../../../src/alerts/group.ts';
import { applySilence } from '../../../src/alerts/group-transitions.ts';
import { groupSilenceFrom, silencedNow } from '../../../src/alerts/silence-sync.ts';
import { alert, CFG, snapshot, T0 } from './fixtures.ts';

function group(instances: string[]): AlertGroup {
  const applied = applyNotification(null, snapshot(instances.map((i) => alert(i))), { groupId: 'g1', notificationId: 1, now: T0, cfg: CFG });
  if ('superseded' in applied) throw new Error('superseded');
  return { ...applied.next, messageKey: 'alert:g1:1' };
}
const silence = (id: string, endsInMs: number, over: Partial<AmSilence> = {}): AmSilence => ({
  id,
  createdBy: 'bob',
  comment: 'deploy',
  endsAt: new Date(T0 + endsInMs).toISOString(),
  status: { state: 'active' },
  matchers: [
    { name: 'alertname', value: 'HighErrorRate', isRegex: false, isEqual: true },
    { name: 'env', value: 'stag.*', isRegex: true, isEqual: true },
  ],
  ...over,
});
const silencedAlert = (instance: string, ids: string[]): AmAlert => ({ fingerprint: `fp-${instance}`, labels: {}, status: { state: 'suppressed', silencedBy: ids } });

describe('which silence a group shows', () => {
  it('only when every firing alert is silenced, until the first of them would be unsilenced', () => {
    const g = group(['api-1', 'api-2']);
    const silences = new Map([
      ['s1', silence('s1', 3_600_000)],
      ['s2', silence('s2', 7_200_000, { createdBy: 'carol' })],
    ]);
    expect(groupSilenceFrom(g, silencedNow({ alerts: [silencedAlert('api-1', ['s1'])], silences }))).toBeNull();
    const both = groupSilenceFrom(g, silencedNow({ alerts: [silencedAlert('api-1', ['s1']), silencedAlert('api-2', ['s2', 's1'])], silences }));
    expect(both).toEqual({ source: 'alertmanager', ids: ['s1', 's2'], createdBy: 'bob', endsAt: T0 + 3_600_000, comment: 'deploy', matchers: 'alertname="HighErrorRate", env=~"stag.*"' });
    // A silence id Alertmanager no longer lists as active covers nothing.
    expect(groupSilenceFrom(g, silencedNow({ alerts: [silencedAlert('api-1', ['gone']), silencedAlert('api-2', ['s2'])], silences }))).toBeNull();
  });

  it('says in the thread, with the mention, when the silence ends while the group fires; changes nothing when it is the same', () => {
    const s = { source: 'alertmanager' as const, ids: ['s1'], createdBy: 'bob', endsAt: T0 + 60_000, comment: 'deploy', matchers: 'alertname="HighErrorRate"' };
    const started = applySilence(group(['api-1']), s, T0 + 1000);
    expect(started?.intents).toEqual([{ kind: 'update' }]);
    const on = started?.next as AlertGroup;
    expect(applySilence(on, { ...s }, T0 + 2000)).toBeNull();
    const ended = applySilence(on, null, T0 + 61_000);
    expect(ended?.intents).toEqual([{ kind: 'update' }, { kind: 'reply', lines: ['🔔 The silence ended and the group still fires.'], mention: true }]);
    expect(ended?.next).toMatchObject({ silence: null, attentionSince: T0 + 61_000, version: on.version + 1 });
    expect(applySilence({ ...on, status: 'resolved' }, null, T0 + 61_000)).toBeNull();
  });
});
