import type { Invoker } from '../core/command.ts';
import type { AccessConfig } from './access-config.ts';

/** Who is at the terminal: a Slack id when `access.terminalUsers` maps them, their login otherwise. */
export interface TerminalUser {
  userId: string;
  userName: string;
}

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;

/**
 * The shell's or the CLI's person: `VIGIL_USER`, else the OS login, mapped to their Slack id by
 * `access.terminalUsers`, so approvals, self-approval and the audit trail know them as Slack does.
 * Unmapped, they are their login, which no rule or approver list names (a login shaped like a
 * Slack id is prefixed, so it cannot pass as one): they may use only what the policy leaves open.
 *
 * The terminal is trusted as far as the machine's accounts are: whoever runs Vigil's CLI with its
 * configuration holds its database credentials too.
 */
export function terminalUser(access: AccessConfig, vigilUser: string | undefined, osUser: string): TerminalUser {
  const name = vigilUser ?? osUser;
  const mapped = Object.hasOwn(access.terminalUsers, name) ? access.terminalUsers[name] : undefined;
  if (mapped) return { userId: mapped, userName: name };
  return { userId: SLACK_USER_ID.test(name) ? `terminal:${name}` : name, userName: name };
}

export function terminalInvoker(surface: 'shell' | 'cli', user: TerminalUser): Invoker {
  return { surface, userId: user.userId, userName: user.userName };
}
