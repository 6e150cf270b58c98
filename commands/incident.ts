import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';
import { requireDep } from '../src/core/deps.ts';
import type { Ref, Reply, RichText } from '../src/core/reply.ts';
import { NEXT_STEPS } from '../src/incidents/messages.ts';
import type { IncidentService } from '../src/incidents/service.ts';
import { INCIDENT_SEVERITIES, type Incident } from '../src/incidents/store.ts';
import { writeupReply } from '../src/incidents/writeup.ts';

/** What /incident works with: the incident service, or why there is none. */
export interface IncidentCommandDeps {
  incidents: IncidentService | null;
  missing: string | undefined;
}

const SUBCOMMANDS = ['declare', 'update', 'lead', 'severity', 'link', 'timeline', 'resolve', 'list'] as const;
const severity = z.enum(INCIDENT_SEVERITIES, 'must be sev1, sev2 or sev3');
// `@U123` as a mention arrives (the Slack listener turns <@U123|name> into it), or the bare id.
const person = z
  .string()
  .regex(/^@?[UW][A-Z0-9]{2,20}$/, 'must be a person, like @alice (a Slack mention)')
  .transform((s) => s.replace(/^@/, ''));
const text = (what: string, max: number) => z.string().trim().min(1, `needs ${what}`).max(max, `${what} takes at most ${max} characters`);

type IncidentArgs =
  | { sub: 'declare'; title: string; severity?: z.infer<typeof severity>; lead?: string }
  | { sub: 'update'; text: string; id?: number }
  | { sub: 'lead'; lead: string; id?: number }
  | { sub: 'severity'; severity: z.infer<typeof severity>; id?: number }
  | { sub: 'link'; alert: string; id?: number }
  | { sub: 'timeline'; id?: number }
  | { sub: 'resolve'; summary: string; id?: number }
  | { sub: 'list' };

const incidentArgs = z
  .object({
    severity: severity.optional(),
    lead: person.optional(),
    id: z.coerce.number({ error: 'must be an incident number' }).int().positive().optional(),
    positionals: z.array(z.string()),
  })
  .transform(({ severity: sev, lead, id, positionals }, ctx): IncidentArgs => {
    const problem = (message: string) => {
      ctx.addIssue({ code: 'custom', path: ['positionals'], message });
      return z.NEVER;
    };
    const [word, ...rest] = positionals;
    const sub = (word ?? 'list').toLowerCase();
    if (!(SUBCOMMANDS as readonly string[]).includes(sub)) return problem(`no subcommand "${word}"; use one of ${SUBCOMMANDS.join(', ')}`);
    const joined = rest.join(' ');
    const parse = <T>(schema: z.ZodType<T>, value: unknown): T => {
      const r = schema.safeParse(value);
      return r.success ? r.data : problem(r.error.issues[0]?.message ?? 'not valid');
    };
    const withId = id === undefined ? {} : { id };
    switch (sub) {
      case 'declare':
        return { sub, title: parse(text('a title', 120), joined), ...(sev ? { severity: sev } : {}), ...(lead ? { lead } : {}) };
      case 'update':
        return { sub, text: parse(text('the update', 2000), joined), ...withId };
      case 'lead':
        return { sub, lead: parse(person, rest[0] ?? lead ?? ''), ...withId };
      case 'severity':
        return { sub, severity: parse(severity, rest[0] ?? sev ?? ''), ...withId };
      case 'link':
        return { sub, alert: parse(text('an alert name (see /alerts)', 200), joined), ...withId };
      case 'resolve':
        return { sub, summary: parse(text('a summary', 2000), joined), ...withId };
      case 'timeline':
        return { sub, ...withId };
      default:
        return { sub: 'list' };
    }
  });

const channelOf = (inc: Incident): Array<string | Ref> => (inc.channelId ? ['in ', { channel: inc.channelId }] : [`(its channel #${inc.channelName} is being created)`]);

export default defineCommand<IncidentArgs, IncidentCommandDeps>({
  name: 'incident',
  summary: 'Incidents: declare one (a channel of its own), update, lead, severity, link an alert, timeline, resolve with a write-up',
  usage: 'declare <title> [--severity sev1|sev2|sev3] [--lead @u] | update <text> | lead @u | severity sev1|sev2|sev3 | link <alert> | timeline | resolve <summary> | list [--id N]',
  options: { severity: { type: 'string' }, lead: { type: 'string' }, id: { type: 'string' } },
  args: incidentArgs,
  async run(args, { deps, invoker }): Promise<Reply> {
    const incidents = requireDep(deps.incidents, 'Incidents', deps.missing);
    if (args.sub === 'list') return listReply(await incidents.open());
    if (args.sub === 'declare') {
      const declared = await incidents.declare({ title: args.title, ...(args.severity ? { severity: args.severity } : {}), ...(args.lead ? { lead: args.lead } : {}) }, invoker);
      return declaredReply(declared.incident, declared.kind === 'existing');
    }
    const inc = await incidents.find(invoker, args.id);
    const done = (summary: RichText): Reply => ({ title: `Incident ${inc.id}`, status: 'ok', summary, visibility: 'private' });
    switch (args.sub) {
      case 'update':
        await incidents.update(inc, invoker, args.text);
        return done(['Update posted ', ...channelOf(inc), ` and in the announcement's thread: ${args.text}`]);
      case 'lead':
        await incidents.setLead(inc, invoker, args.lead);
        return done(['Lead is now ', { user: args.lead }, '; they are invited and the topic says so.']);
      case 'severity':
        await incidents.setSeverity(inc, invoker, args.severity);
        return done(`Severity is now ${args.severity}.`);
      case 'link':
        return done(await incidents.link(inc, invoker, args.alert));
      case 'timeline':
        return { ...writeupReply(await incidents.record(inc)), visibility: 'private' };
      case 'resolve':
        return { ...writeupReply(await incidents.resolve(inc, invoker, args.summary)), visibility: 'private' };
    }
  },
});

function declaredReply(inc: Incident, existing: boolean): Reply {
  return {
    title: existing ? `Already incident ${inc.id}: ${inc.title}` : `Incident ${inc.id} declared: ${inc.title}`,
    status: existing ? 'info' : 'ok',
    summary: [`${inc.severity.toUpperCase()} · lead `, { user: inc.lead }, ' · worked ', ...channelOf(inc)],
    notes: existing ? ['This alert is already part of it: join its channel.'] : ['What to do next:', ...NEXT_STEPS],
    visibility: 'private',
    data: { id: inc.id, title: inc.title, severity: inc.severity, lead: inc.lead, channel: inc.channelId, channelName: inc.channelName, existing },
  };
}

function listReply(open: readonly Incident[]): Reply {
  if (open.length === 0) return { title: 'Incidents', status: 'ok', summary: 'No incident is open. /incident declare <title> declares one.' };
  return {
    title: `Incidents open (${open.length})`,
    status: 'warn',
    sections: [{ heading: 'Open', table: { columns: ['id', 'severity', 'title', 'lead', 'channel'], rows: open.map((i) => [String(i.id), i.severity, i.title, `@${i.lead}`, `#${i.channelName}`]) } }],
    notes: ['In an incident channel, /incident acts on that incident; elsewhere add --id N.'],
  };
}
