import { describe, expect, it } from 'vitest';
import { NO_ACCESS_RULES, type AccessConfig } from '../../../src/access/access-config.ts';
import type { MemberDirectory } from '../../../src/access/members.ts';
import { createAccessPolicy } from '../../../src/access/policy.ts';
import { createInteractionDispatcher, type InteractionRun } from '../../../src/core/interactions.ts';
import { richTextString } from '../../../src/core/reply.ts';

/** Listed users only: these tests are about where the policy is asked, not about user groups. */
const listedOnly: MemberDirectory = {
  membership: async (userId, people) => (people.users.includes(userId) ? 'member' : 'not_member'),
  isApprover: async (userId, people) => people.users.includes(userId),
};

const access: AccessConfig = { ...NO_ACCESS_RULES, alerts: { acknowledge: { users: ['U0ONCALL'], groups: [], channels: [] } } };
const policy = createAccessPolicy(access, listedOnly);

describe('a click whose handler names an access rule', () => {
  it('is refused for whoever the rule refuses, before its handler runs, and the run says which rule', async () => {
    const handled: string[] = [];
    const runs: InteractionRun[] = [];
    const dispatcher = createInteractionDispatcher({
      handlers: [{ id: 'test.ack', access: 'alerts.acknowledge', handle: async (i) => (handled.push(i.invoker.userId), { reply: { title: 'ok', status: 'ok' } }) }],
      authorize: (name, invoker) => policy.capability(name, invoker),
      onRun: (run) => runs.push(run),
    });
    const click = (userId: string) => dispatcher.dispatch({ kind: 'button', handler: 'test.ack', value: '{}', invoker: { surface: 'slack', userId, channelId: 'C0X' } });

    const refused = await click('U0STRANGER');
    expect(richTextString(refused.reply?.summary ?? '')).toBe('Acting on alert messages is for @U0ONCALL.');
    expect(handled).toEqual([]);
    expect(runs[0]).toMatchObject({ outcome: 'refused', refusal: { rule: 'access.alerts.acknowledge' } });

    await click('U0ONCALL');
    expect(handled).toEqual(['U0ONCALL']);
    expect(runs[1]?.outcome).toBe('ok');
  });

  it('an access name nobody defined is a bug, not an open door', async () => {
    await expect(policy.capability('alerts.everything', { surface: 'slack', userId: 'U0ONCALL' })).rejects.toThrow('No access rule is known as "alerts.everything"');
  });
});
