import { z } from 'zod';
import { channelId, userGroupId, userId } from '../config/slack-ids.ts';
import { parseDuration } from './params.ts';
import { refineRunner, runnerShape, runnerSpecOf } from './runner-config.ts';

const DEFAULT_EXPIRY = '15m';

/** Slack users and user groups (members resolved through Slack, cached). */
const people = z.object({ users: z.array(userId).default([]), groups: z.array(userGroupId).default([]) }).strict();
const MAX_EXPIRY_MS = 24 * 3600_000;

/**
 * One action of the catalog (`actions.catalog.<id>` in manifests/vigil.yaml): what it runs (exactly
 * one of exec, http, builtin, with its parameters), its risk, and who may approve it.
 */
const actionConfig = z
  .object({
    title: z.string().min(1).max(100),
    risk: z.enum(['low', 'high']),
    ...runnerShape,
    approvers: people.default({ users: [], groups: [] }),
    /** Who may ask for it (unset: anyone who may run /run); approvers stay who may approve. */
    requesters: people.refine((p) => p.users.length + p.groups.length > 0, 'names nobody: list users or groups, or drop requesters').optional(),
    /** Distinct approvers needed; 2 for four eyes. */
    approvals: z.number().int().min(1).max(5).default(1),
    /** `none` runs on request: only for low-risk actions. */
    approval: z.enum(['required', 'none']).default('required'),
    allowSelfApproval: z.boolean().default(false),
    /** A pending request expires after this (`15m`). */
    expiresAfter: z.string().default(DEFAULT_EXPIRY),
    /** The requester must give a reason (`--reason "…"`); always true for silences. */
    reasonRequired: z.boolean().default(false),
    /**
     * Silences only: one of the approvers asking for a silence up to this long runs it at once
     * (on-call muting a known alert at 3 a.m.); longer ones, or anyone else, need an approver.
     */
    selfServiceUpTo: z.string().optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    refineRunner(a, ctx);
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (a.approval === 'none' && a.risk !== 'low') issue('approval', '`none` is only allowed for low-risk actions');
    if (a.approval === 'required' && a.approvers.users.length === 0 && a.approvers.groups.length === 0) issue('approvers', 'needs at least one approver (users or groups)');
    if (a.approval === 'required' && a.approvers.groups.length === 0 && a.approvers.users.length < a.approvals + (a.allowSelfApproval ? 0 : 0)) {
      issue('approvals', `needs ${a.approvals} distinct approvers but only ${a.approvers.users.length} user(s) are listed`);
    }
    if (a.selfServiceUpTo !== undefined) {
      const upTo = parseDuration(a.selfServiceUpTo);
      if (a.builtin !== 'alertmanager.silence') issue('selfServiceUpTo', 'is only for actions running the alertmanager.silence builtin');
      else if (upTo === null || upTo <= 0) issue('selfServiceUpTo', `"${a.selfServiceUpTo}" is not a duration like 4h`);
      else if (a.approval === 'none') issue('selfServiceUpTo', 'means nothing with `approval: none` (every silence runs at once)');
    }
    const expiry = parseDuration(a.expiresAfter);
    if (expiry === null || expiry <= 0 || expiry > MAX_EXPIRY_MS) issue('expiresAfter', 'must be a duration like 15m, at most 24h');
  })
  .transform((a) => ({
    title: a.title,
    risk: a.risk,
    runner: runnerSpecOf(a),
    policy:
      a.approval === 'none'
        ? null
        : { users: a.approvers.users, groups: a.approvers.groups, approvals: a.approvals, allowSelfApproval: a.allowSelfApproval },
    requesters: a.requesters ?? null,
    expiresAfterMs: parseDuration(a.expiresAfter) ?? 15 * 60_000,
    reasonRequired: a.reasonRequired || a.builtin === 'alertmanager.silence',
    selfServiceUpToMs: a.selfServiceUpTo === undefined ? null : parseDuration(a.selfServiceUpTo),
  }));

export type ActionConfig = z.output<typeof actionConfig>;

/** `actions:` in manifests/vigil.yaml. */
export const actionsConfigSchema = z
  .object({
    /** Where approval messages go (Approve / Deny, results in the thread). */
    approvalChannel: channelId,
    /**
     * When Vigil runs as root, exec actions run as this user, so they cannot read Vigil's secrets
     * from its environment or files. `root` keeps them root (not recommended).
     */
    runAs: z.string().min(1).max(32).default('nobody'),
    /**
     * `in-process`: the bot runs approved actions itself. `separate`: only a `vigil runner` process
     * (its own OS user and environment: the action credentials, no Slack secrets) runs them; the
     * bot then holds no action credentials.
     */
    runner: z.enum(['in-process', 'separate']).default('in-process'),
    catalog: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,60}$/, 'action ids are lower-case letters, digits and dashes'), actionConfig).default({}),
  })
  .strict();

export type ActionsConfig = z.output<typeof actionsConfigSchema>;
