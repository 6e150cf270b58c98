import { describeError } from '../core/errors.ts';
import type { UserGroupReader } from '../slack/user-groups.ts';
import type { Logger } from '../log.ts';
import type { ApprovalPolicy } from './policy.ts';

export interface ApproverDirectory {
  /** Whether `userId` is an approver under `policy`: listed, or a member of a listed user group. */
  isApprover(userId: string, policy: Pick<ApprovalPolicy, 'users' | 'groups'>): Promise<boolean>;
}

// Slack's usergroups.users.list is Tier 2 (20+/min): members are cached, not asked per click.
const CACHE_MS = 5 * 60_000;
/**
 * User groups resolved through Slack (`usergroups.users.list`, scope usergroups:read), cached.
 * Fails closed: a group Slack cannot list (no client, an error) approves nobody, and says so once.
 */
export function createApproverDirectory(groups: UserGroupReader | null, log: Logger, now: () => number = Date.now): ApproverDirectory {
  const cache = new Map<string, { at: number; users: Set<string> }>();

  async function membersOf(group: string): Promise<Set<string>> {
    const hit = cache.get(group);
    if (hit && now() - hit.at < CACHE_MS) return hit.users;
    if (!groups) return new Set();
    try {
      const users = new Set(await groups.members(group));
      cache.set(group, { at: now(), users });
      return users;
    } catch (err) {
      log.warn({ group, err: describeError(err) }, 'actions: cannot list the members of an approver group; they cannot approve until it can');
      // A stale list is better than none while Slack is away; no list means nobody from the group.
      return hit?.users ?? new Set();
    }
  }

  return {
    async isApprover(userId, policy) {
      if (policy.users.includes(userId)) return true;
      for (const group of policy.groups) if ((await membersOf(group)).has(userId)) return true;
      return false;
    },
  };
}
