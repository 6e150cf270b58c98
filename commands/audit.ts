import { z } from 'zod';
import { argSchemas } from '../src/core/args.ts';
import { defineCommand } from '../src/core/command.ts';
import { requireDep } from '../src/core/deps.ts';
import type { Reply, Status } from '../src/core/reply.ts';
import type { AuditFilter, AuditRow } from '../src/audit/chain.ts';

/** What /audit reads: recent events of the audit trail. */
export interface AuditCommandDeps {
  /** Null with the reason when Vigil's state database is not there. */
  audit: { recent(filter: AuditFilter, limit: number): Promise<AuditRow[]> } | null;
  missing: string | undefined;
  now: () => number;
}

export const MAX_ROWS = 50;
const DEFAULT_ROWS = 20;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const MAX_SINCE_MS = 366 * UNIT_MS.d;

/** `30m`, `24h`, `7d`, `2w`: how far back to look, in milliseconds. Shared with `vigil audit export`. */
export const sinceSchema = z
  .string()
  .regex(/^\d{1,6}[mhdw]$/, 'must be a number and a unit: 30m, 24h, 7d, 2w')
  .transform((text) => ({ text, ms: Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1) as keyof typeof UNIT_MS] }))
  .refine(({ ms }) => ms > 0 && ms <= MAX_SINCE_MS, 'must be more than 0 and at most 366d');

/**
 * `<@U123|alice>` or `<@U123>` (a Slack mention) is that user id exactly; anything else (`U123`,
 * `@alice`, `root` from the CLI) matches an actor id or display name.
 */
export const userSchema = z
  .string()
  .regex(/^(<@[A-Z0-9]{2,30}(\|[^<>]{0,80})?>|@?[\w.-]{1,80})$/, 'must be a Slack mention like @alice or a user id like U123')
  .transform((text): NonNullable<AuditFilter['user']> => {
    const mention = /^<@([A-Z0-9]+)(?:\|[^>]*)?>$/.exec(text);
    return mention?.[1] ? { id: mention[1] } : { idOrName: text.replace(/^@/, '') };
  });

export const actionSchema = z.string().regex(/^[A-Za-z0-9][\w.:-]{0,63}$/, 'must be an event kind, an action or a command name, e.g. restart, command, action.approve');

interface AuditArgs {
  action?: string;
  user?: NonNullable<AuditFilter['user']>;
  since?: { text: string; ms: number };
  limit: number;
}

export default defineCommand<AuditArgs, AuditCommandDeps>({
  name: 'audit',
  summary: 'Recent audit trail: commands, requests, decisions, runs, silences, acknowledgements',
  usage: '[--action X] [--user @someone] [--since 24h] [--limit N]',
  options: { action: { type: 'string' }, user: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' } },
  args: z
    .object({
      action: actionSchema.optional(),
      user: userSchema.optional(),
      since: sinceSchema.optional(),
      limit: argSchemas.positiveInt(MAX_ROWS).default(DEFAULT_ROWS),
      positionals: z.array(z.string()).max(0, 'takes no arguments besides the options'),
    })
    .transform(({ positionals: _, ...args }) => args),
  async run(args, { deps }): Promise<Reply> {
    const audit = requireDep(deps.audit, "Vigil's state database (audit trail)", deps.missing);
    const filter: AuditFilter = {
      ...(args.action !== undefined ? { action: args.action } : {}),
      ...(args.user !== undefined ? { user: args.user } : {}),
      ...(args.since !== undefined ? { since: new Date(deps.now() - args.since.ms) } : {}),
    };
    const events = await audit.recent(filter, args.limit);
    const statuses = events.map((e) => outcomeStatus(e.outcome));
    const scope = describeFilter(args);
    if (events.length === 0) return { title: 'Audit trail', status: 'info', summary: `No audit events${scope}.` };
    return {
      title: `Audit trail (${events.length} newest)`,
      status: 'info',
      summary: `The ${events.length} most recent events${scope}, newest first. Times in UTC.`,
      sections: [
        {
          heading: 'Events',
          table: {
            columns: ['time', 'actor', 'kind', 'subject', 'outcome'],
            rows: events.map((e) => [utc(e.at), actor(e), e.kind, e.subject, e.outcome]),
            // Marked only when something stands out, so a page of plain records stays plain.
            ...(statuses.includes('warn') ? { rowStatus: statuses } : {}),
          },
        },
      ],
      notes: [
        ...(events.length === args.limit ? [`Only the newest ${args.limit} are shown: narrow with --action, --user or --since, or export with \`npx vigil audit export\`.`] : []),
        'The chain itself is checked with `npx vigil audit verify`.',
      ],
      data: events.map((e) => ({ id: e.id, at: e.at.toISOString(), actorId: e.actorId, actorName: e.actorName, channel: e.channel, kind: e.kind, subject: e.subject, requestId: e.requestId, outcome: e.outcome })),
    };
  },
});

function describeFilter(args: AuditArgs): string {
  const parts = [
    args.action !== undefined ? `for ${args.action}` : '',
    args.user ? `by ${'id' in args.user ? args.user.id : args.user.idOrName}` : '',
    args.since !== undefined ? `in the last ${args.since.text}` : '',
  ].filter(Boolean);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

function actor(e: AuditRow): string {
  return e.actorName && e.actorName !== e.actorId ? `${e.actorName} (${e.actorId})` : e.actorId;
}

/** `2026-11-05 14:03:22`: seconds are enough to read, the id orders events exactly. */
function utc(at: Date): string {
  return at.toISOString().slice(0, 19).replace('T', ' ');
}

/** Refusals and failures stand out; everything else reads as a plain record. */
function outcomeStatus(outcome: string): Status {
  return /^(error|fail|refused|denied|interrupted|unavailable|chain_broken)/.test(outcome) ? 'warn' : 'info';
}
