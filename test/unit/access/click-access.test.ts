import { describe, expect, it } from 'vitest';
import { NO_ACCESS_RULES, type AccessConfig } from '../../../src/access/access-config.ts';
import type { MemberDirectory } from '../../../src/access/members.ts';
import { createAccessPolicy } from '../../../src/access/policy.ts';
import { actionHandlers } from '../../../src/actions/handlers.ts';
import type { ActionService } from '../../../src/actions/service.ts';
import { createInteractionDispatcher, type InteractionRun } from '../../../src/core/interactions.ts';
import { richTextString } from '../../../src/core/reply.ts';

/** Listed users only: these tests are about where the policy is asked, not about user groups. */
const listedOnly: MemberDirectory = {
  membership: async (userId, people) => (people.users.includes(userId) ? 'member' : 'not_member'),
  isApprover: async (userId, people) => people.users.includes(userId),
};

const access: AccessConfig = { ...NO_ACCESS_RULES, commands: { run: { users: ['U0ONCALL'], groups: [], channels: [] } } };
const policy = createAccessPolicy(access, listedOnly);

describe('buttons obey the rule of the command they stand for', () => {
  it('a button whose access is command:run is refused for whoever /run refuses, and its handler never runs', async () => {
    const handled: string[] = [];
    const runs: InteractionRun[] = [];
    const dispatcher = createInteractionDispatcher({
      handlers: [{ id: 'test.request', access: 'command:run', handle: async (i) => (handled.push(i.invoker.userId), { reply: { title: 'ok', status: 'ok' } }) }],
      authorize: (name, invoker) => policy.capability(name, invoker),
      onRun: (run) => runs.push(run),
    });
    const click = (userId: string) => dispatcher.dispatch({ kind: 'button', handler: 'test.request', value: '{}', invoker: { surface: 'slack', userId, channelId: 'C0X' } });

    const refused = await click('U0STRANGER');
    expect(richTextString(refused.reply?.summary ?? '')).toBe('/run is for @U0ONCALL.');
    expect(handled).toEqual([]);
    expect(runs[0]).toMatchObject({ outcome: 'refused', refusal: { rule: 'access.commands.run' } });

    await click('U0ONCALL');
    expect(handled).toEqual(['U0ONCALL']);
    expect(runs[1]?.outcome).toBe('ok');
  });

  it("the action buttons and forms name the command they stand for: /run to request, /approve and /deny to decide", () => {
    const handlers = actionHandlers({} as ActionService, new Map());
    expect(Object.fromEntries(handlers.map((h) => [h.id, h.access]))).toEqual({
      'actions.approve': 'command:approve',
      'actions.deny': 'command:deny',
      'actions.request': 'command:run',
      'actions.request-form': 'command:run',
    });
  });

  it('an access name nobody defined is a bug, not an open door', async () => {
    await expect(policy.capability('alerts.everything', { surface: 'slack', userId: 'U0ONCALL' })).rejects.toThrow('No access rule is known as "alerts.everything"');
  });
});
