import { describeError } from '../core/errors.ts';
import type { UserGroupReader } from '../slack/user-groups.ts';
import type { Logger } from '../log.ts';

/** Slack users and user groups: approvers, requesters, who may run a command. */
export interface People {
  users: readonly string[];
  groups: readonly string[];
}

/** `unknown`: Slack could not say (a group it cannot list), so the answer is no, said as such. */
export type Membership = 'member' | 'not_member' | 'unknown';

export interface MemberDirectory {
  /** Whether `userId` is listed, or in a listed user group. */
  membership(userId: string, people: People): Promise<Membership>;
  /** The same, failing closed: `unknown` counts as no (approvals). */
  isApprover(userId: string, people: People): Promise<boolean>;
}

// Slack's usergroups.users.list is Tier 2 (20+/min): members are cached, not asked per click.
const CACHE_MS = 5 * 60_000;

/**
 * User groups resolved through Slack (`usergroups.users.list`, scope usergroups:read), cached.
 * Fails closed: a group Slack cannot list (no client, an error) admits nobody, and says so in the log.
 */
export function createMemberDirectory(groups: UserGroupReader | null, log: Logger, now: () => number = Date.now): MemberDirectory {
  const cache = new Map<string, { at: number; users: Set<string> }>();

  /** Members, or null when Slack cannot say and nothing was cached. */
  async function membersOf(group: string): Promise<Set<string> | null> {
    const hit = cache.get(group);
    if (hit && now() - hit.at < CACHE_MS) return hit.users;
    if (!groups) return null;
    try {
      const users = new Set(await groups.members(group));
      cache.set(group, { at: now(), users });
      return users;
    } catch (err) {
      log.warn({ group, err: describeError(err) }, 'access: cannot list the members of a user group; its members are refused until it can');
      // A stale list is better than none while Slack is away; no list means nobody from the group.
      return hit?.users ?? null;
    }
  }

  async function membership(userId: string, people: People): Promise<Membership> {
    if (people.users.includes(userId)) return 'member';
    let unknown = false;
    for (const group of people.groups) {
      const members = await membersOf(group);
      if (members === null) unknown = true;
      else if (members.has(userId)) return 'member';
    }
    return unknown ? 'unknown' : 'not_member';
  }

  return {
    membership,
    isApprover: async (userId, people) => (await membership(userId, people)) === 'member',
  };
}
