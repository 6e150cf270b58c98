import { z } from 'zod';
import { argSchemas } from '../src/core/args.ts';
import { defineCommand } from '../src/core/command.ts';
import { requireDep } from '../src/core/deps.ts';
import type { Reply, Status } from '../src/core/reply.ts';
import type { AuditFilter, AuditRow } from '../src/audit/chain.ts';
import { actionSchema, sinceSchema, userSchema } from '../src/audit/filter-args.ts';

/** What /audit reads: recent events of the audit trail. */
export interface AuditCommandDeps {
  /** Null with the reason when Vigil's state database is not there. */
  audit: { recent(filter: AuditFilter, limit: number): Promise<AuditRow[]> } | null;
  missing: string | undefined;
  now: () => number;
}

export const MAX_ROWS = 50;
const DEFAULT_ROWS = 20;
interface AuditArgs {
  action?: string;
  user?: string;
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
    args.user ? `by ${args.user}` : '',
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
