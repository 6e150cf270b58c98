import { describe, expect, it } from 'vitest';
import { plainMentions } from '../../../src/slack/mentions.ts';

describe('plainMentions: Slack syntax in typed text, as commands read it', () => {
  it('turns user, channel and user group mentions into @id and #id', () => {
    expect(plainMentions('--user <@U1|alice> in <#C0OPS|ops> for <!subteam^S0SRE|sre>')).toBe('--user @U1 in #C0OPS for @S0SRE');
    expect(plainMentions('--user <@U0BOB>')).toBe('--user @U0BOB');
  });

  it('leaves anything else as typed, special mentions included', () => {
    expect(plainMentions('<!here> <@lower> a < b > c')).toBe('<!here> <@lower> a < b > c');
  });
});
