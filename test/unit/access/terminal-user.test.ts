import { describe, expect, it } from 'vitest';
import { terminalInvoker, terminalUser } from '../../../src/access/terminal-user.ts';
import { NO_ACCESS_RULES, type AccessConfig } from '../../../src/access/access-config.ts';
import { envSchema } from '../../../src/config/env.ts';

const access: AccessConfig = { ...NO_ACCESS_RULES, terminalUsers: { alice: 'U0ALICE' } };

describe('the terminal user', () => {
  it('is the Slack user access.terminalUsers maps VIGIL_USER or the login to', () => {
    expect(terminalUser(access, undefined, 'alice')).toEqual({ userId: 'U0ALICE', userName: 'alice' });
    expect(terminalUser(access, 'alice', 'root')).toEqual({ userId: 'U0ALICE', userName: 'alice' });
    expect(terminalInvoker('cli', terminalUser(access, undefined, 'alice'))).toEqual({ surface: 'cli', userId: 'U0ALICE', userName: 'alice' });
  });

  it('unmapped, is their login, and a login shaped like a Slack id cannot pass as one', () => {
    expect(terminalUser(access, undefined, 'bob')).toEqual({ userId: 'bob', userName: 'bob' });
    expect(terminalUser(access, undefined, 'U0BOSS')).toEqual({ userId: 'terminal:U0BOSS', userName: 'U0BOSS' });
    // Inherited keys of a plain object are no mapping.
    expect(terminalUser(access, undefined, 'constructor').userId).toBe('constructor');
  });

  it('VIGIL_USER is a login name, never a Slack id or anything else', () => {
    expect(envSchema.safeParse({ VIGIL_USER: 'alice' }).success).toBe(true);
    expect(envSchema.safeParse({ VIGIL_USER: 'alice smith' }).success).toBe(false);
    expect(envSchema.safeParse({ VIGIL_USER: '<@U0BOSS>' }).success).toBe(false);
  });
});
