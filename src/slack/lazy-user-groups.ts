import type { Logger } from '../log.ts';
import type { UserGroupReader } from './user-groups.ts';

/**
 * A user-group reader whose Slack client is loaded on its first question: a CLI run that never
 * asks about a group (most) does not load the Web API client.
 */
export function lazyUserGroupReader(opts: { token: string; slackApiUrl?: string; log: Logger }): UserGroupReader {
  let reader: Promise<UserGroupReader> | null = null;
  return {
    async members(group) {
      reader ??= import('./user-groups.ts').then((m) => m.createUserGroupReader(opts));
      return (await reader).members(group);
    },
  };
}
