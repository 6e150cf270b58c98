import { z } from 'zod';
import { createSlackClient } from './client.ts';
import type { Logger } from '../log.ts';

/** Who is in a Slack user group; the rest of Vigil asks this, never the Web API itself. */
export interface UserGroupReader {
  /** Member user ids; throws when Slack cannot say (no such group, no `usergroups:read`, Slack away). */
  members(group: string): Promise<string[]>;
}

const answer = z.object({ users: z.array(z.string()) });

/** `usergroups.users.list` (Tier 2, scope usergroups:read) with the bot token. */
export function createUserGroupReader(opts: { token: string; slackApiUrl?: string; log: Logger }): UserGroupReader {
  const client = createSlackClient({ token: opts.token, ...(opts.slackApiUrl ? { slackApiUrl: opts.slackApiUrl } : {}), log: opts.log });
  return {
    async members(group) {
      return answer.parse(await client.apiCall('usergroups.users.list', { usergroup: group })).users;
    },
  };
}
