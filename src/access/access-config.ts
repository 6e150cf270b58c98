import { z } from 'zod';
import { channelId, userGroupId, userId } from '../config/slack-ids.ts';

/**
 * Who may use something, and where. `users` and `groups` (Slack user groups, resolved through
 * Slack as approver groups are) say who; both empty means anyone. `channels` says where; empty
 * means any channel. `publicIn`: where `--public` may show the answer to everyone in the channel;
 * unset, it is `channels` when they are listed, and nowhere for a rule naming who (a command for
 * @sre must not be posted where everyone reads it), anywhere for a rule that only names channels.
 */
export const accessRuleSchema = z
  .object({
    users: z.array(userId).default([]),
    groups: z.array(userGroupId).default([]),
    channels: z.array(channelId).default([]),
    publicIn: z.array(channelId).optional(),
  })
  .strict()
  .refine((r) => r.users.length + r.groups.length + r.channels.length > 0, 'names nobody and no channel: list users, groups or channels (or drop the rule to leave it open)');

export type AccessRule = z.output<typeof accessRuleSchema>;

/** A terminal user's name: an OS login (or VIGIL_USER), never a Slack id itself. */
export const terminalUserName = z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/i, 'must be a login name like alice');

/**
 * `access:` in manifests/vigil.yaml. No rule: open to everyone (how Vigil behaved before).
 * Command names are checked against the registry where the file schema is assembled.
 */
export const accessConfigSchema = z
  .object({
    /** By command name (`audit`, `slowqueries`, …): who may run it, where; buttons that stand for it too. */
    commands: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'a command name like audit'), accessRuleSchema).default({}),
    alerts: z
      .object({
        /** Who may acknowledge, unacknowledge, silence or resolve by hand from an alert's message. */
        acknowledge: accessRuleSchema.optional(),
      })
      .strict()
      .default({}),
    /** Terminal users (VIGIL_USER, else the OS login) by name → their Slack user id. */
    terminalUsers: z.record(terminalUserName, userId).default({}),
  })
  .strict();

export type AccessConfig = z.output<typeof accessConfigSchema>;

export const NO_ACCESS_RULES: AccessConfig = { commands: {}, alerts: {}, terminalUsers: {} };
