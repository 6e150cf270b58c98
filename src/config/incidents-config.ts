import { z } from 'zod';
import { channelId, userGroupId, userId } from './slack-ids.ts';

/**
 * `incidents:` in manifests/vigil.yaml. Without it /incident says incidents are not configured,
 * alert messages offer no Declare button, and the manifest asks for no channel scopes.
 */
export const incidentsConfigSchema = z
  .object({
    /** Where each declaration is announced; `/incident update` is repeated in its thread. */
    announceChannel: channelId,
    /** Invited to every incident channel besides the declarer and the lead (e.g. the on-call group). */
    invite: z
      .object({
        userGroups: z.array(userGroupId).max(20).default([]),
        users: z.array(userId).max(100).default([]),
      })
      .strict()
      .default({ userGroups: [], users: [] }),
    /**
     * Channel names are `<prefix>-<yyyymmdd>-<title words>`: lower case letters, digits, `-` and
     * `_`, as Slack allows, and short enough to leave room for the date and a `-2` suffix.
     */
    channelPrefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,19}$/, 'a short lower-case word like inc (letters, digits, - and _)')
      .default('inc'),
  })
  .strict();

export type IncidentsConfig = z.infer<typeof incidentsConfigSchema>;
