/**
 * The member directory over a user-group reader (a plain fake of its one-method interface): listed
 * users, group members, the 5-minute cache, and failing closed when Slack cannot list a group.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMemberDirectory } from '../../../src/access/members.ts';
import type { UserGroupReader } from '../../../src/slack/user-groups.ts';

const log = pino({ level: 'silent' });

function reader(groups: Record<string, string[]>): UserGroupReader & { calls: string[]; failing: boolean } {
  const r = {
    calls: [] as string[],
    failing: false,
    async members(group: string): Promise<string[]> {
      r.calls.push(group);
      if (r.failing) throw new Error('Slack is away');
      const members = groups[group];
      if (!members) throw new Error('no_such_subteam');
      return members;
    },
  };
  return r;
}

describe('createMemberDirectory', () => {
  it('a listed user is a member without asking Slack; a group member is one; anyone else is not', async () => {
    const groups = reader({ S0SRE: ['U0ALICE'] });
    const dir = createMemberDirectory(groups, log);
    expect(await dir.membership('U0BOB', { users: ['U0BOB'], groups: ['S0SRE'] })).toBe('member');
    expect(groups.calls).toEqual([]);
    expect(await dir.membership('U0ALICE', { users: [], groups: ['S0SRE'] })).toBe('member');
    expect(await dir.membership('U0MALLORY', { users: [], groups: ['S0SRE'] })).toBe('not_member');
  });

  it('a group Slack cannot list (or no Slack at all) is `unknown`, and isApprover says no', async () => {
    const groups = reader({});
    const dir = createMemberDirectory(groups, log);
    expect(await dir.membership('U0ALICE', { users: [], groups: ['S0GONE'] })).toBe('unknown');
    expect(await dir.isApprover('U0ALICE', { users: [], groups: ['S0GONE'] })).toBe(false);
    const none = createMemberDirectory(null, log);
    expect(await none.membership('U0ALICE', { users: [], groups: ['S0SRE'] })).toBe('unknown');
    expect(await none.isApprover('U0ALICE', { users: [], groups: ['S0SRE'] })).toBe(false);
  });

  it('a member of another listed group is a member even while one group cannot be listed', async () => {
    const dir = createMemberDirectory(reader({ S0ONCALL: ['U0OSCAR'] }), log);
    expect(await dir.membership('U0OSCAR', { users: [], groups: ['S0GONE', 'S0ONCALL'] })).toBe('member');
    expect(await dir.membership('U0MALLORY', { users: [], groups: ['S0GONE', 'S0ONCALL'] })).toBe('unknown');
  });

  it('caches members for 5 minutes, keeps the last list while Slack fails, and asks again after', async () => {
    let now = 1_000_000;
    const groups = reader({ S0SRE: ['U0ALICE'] });
    const dir = createMemberDirectory(groups, log, () => now);
    await dir.membership('U0ALICE', { users: [], groups: ['S0SRE'] });
    await dir.membership('U0BOB', { users: [], groups: ['S0SRE'] });
    expect(groups.calls).toEqual(['S0SRE']);
    now += 5 * 60_000;
    groups.failing = true;
    // Stale but known: better than refusing every member while Slack is away.
    expect(await dir.membership('U0ALICE', { users: [], groups: ['S0SRE'] })).toBe('member');
    expect(groups.calls).toEqual(['S0SRE', 'S0SRE']);
  });
});
