import { duration } from '../alerts/group.ts';
import { richTextString, type Reply, type RichText } from '../core/reply.ts';
import { responseTimes, type ResponseTimes } from './response-times.ts';
import { participants, type TimelineItem } from './timeline.ts';
import type { IncidentRecord } from './timeline-source.ts';

/** The post-mortem's headings, left for the people who worked it to fill in. */
export const POSTMORTEM_HEADINGS = ['Impact', 'Root cause', 'What went well', 'What went badly', 'Action items'] as const;

const time = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/** `12m`, or `3m before` for a span that ended before it started (acknowledged before declared). */
export function span(ms: number | null): string {
  if (ms === null) return 'n/a';
  return ms < 0 ? `${duration(-ms)} before` : duration(ms);
}

/** Plain text of a timeline line: users by id (`@U123`), for tables, Markdown and JSON. */
export const itemText = (i: TimelineItem) => richTextString(i.text);

function rangeNote(r: IncidentRecord): string {
  if (!r.audit) return 'Built from the alert tables alone: no audit event belongs to it.';
  return `Built from audit events ${r.audit.fromId}–${r.audit.toId} (event ${r.audit.toId} hashed ${r.audit.toHash.slice(0, 12)}…); \`npx vigil audit verify\` checks the chain they are part of.`;
}

/** The write-up as a Reply: the channel shows it when the incident resolves, the shell prints it. */
export function writeupReply(r: IncidentRecord): Reply {
  const { incident: inc } = r;
  const t = responseTimes({ groups: r.groups, items: r.items, declaredAt: inc.declaredAt, resolvedAt: inc.resolvedAt });
  const people = participants(r.items);
  const took: RichText = people.length === 0 ? 'Took part: nobody recorded.' : ['Took part: ', ...people.flatMap((u, i) => (i === 0 ? [{ user: u }] : [', ', { user: u }]))];
  return {
    title: `Incident ${inc.id} ${inc.status === 'resolved' ? 'resolved' : 'so far'}: ${inc.title}`.slice(0, 150),
    status: inc.status === 'resolved' ? 'ok' : 'warn',
    summary: inc.summary ? `Summary: ${inc.summary}` : `Open since ${time(inc.declaredAt)} UTC, ${inc.severity}.`,
    sections: [
      { heading: 'Response times', fields: timeFields(t) },
      {
        heading: `Timeline (UTC, ${r.items.length} item${r.items.length === 1 ? '' : 's'})`,
        table: { columns: ['time', 'what'], rows: r.items.map((i) => [time(i.at), itemText(i)]) },
      },
      ...(inc.status === 'resolved' ? [{ heading: 'Post-mortem (to fill in)', fields: POSTMORTEM_HEADINGS.map((h) => ({ label: h, value: '…' })) }] : []),
    ],
    notes: [took, rangeNote(r)],
    visibility: 'channel',
    data: writeupJson(r),
  };
}

function timeFields(t: ResponseTimes) {
  return [
    { label: 'Time to acknowledge', value: `${span(t.ackFromAlertMs)} from the first alert · ${span(t.ackFromDeclareMs)} from the declaration` },
    { label: 'Time to resolve', value: `${span(t.resolveFromAlertMs)} from the first alert · ${span(t.resolveFromDeclareMs)} from the declaration` },
  ];
}

/** `vigil incident export --format json`: the same facts, times as ISO strings and spans in ms. */
export function writeupJson(r: IncidentRecord): Record<string, unknown> {
  const inc = r.incident;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const t = responseTimes({ groups: r.groups, items: r.items, declaredAt: inc.declaredAt, resolvedAt: inc.resolvedAt });
  return {
    id: inc.id,
    title: inc.title,
    severity: inc.severity,
    status: inc.status,
    lead: inc.lead,
    declaredBy: inc.declaredBy,
    declaredAt: iso(inc.declaredAt),
    resolvedAt: iso(inc.resolvedAt),
    summary: inc.summary,
    channel: inc.channelId,
    alertGroups: r.groups.map((g) => ({ group: g.groupId, epoch: g.epoch, title: g.title, firedAt: iso(g.firedAt), resolvedAt: iso(g.resolvedAt) })),
    responseTimes: {
      firstAlertAt: iso(t.firstAlertAt),
      firstAckAt: iso(t.firstAckAt),
      ackFromAlertMs: t.ackFromAlertMs,
      ackFromDeclareMs: t.ackFromDeclareMs,
      resolveFromAlertMs: t.resolveFromAlertMs,
      resolveFromDeclareMs: t.resolveFromDeclareMs,
    },
    timeline: r.items.map((i) => ({ at: iso(i.at), kind: i.kind, text: itemText(i), actor: i.actor, auditId: i.auditId })),
    participants: participants(r.items),
    audit: r.audit,
  };
}

/** `vigil incident export --format md`: a post-mortem document to paste into a wiki. */
export function writeupMarkdown(r: IncidentRecord): string {
  const inc = r.incident;
  const t = responseTimes({ groups: r.groups, items: r.items, declaredAt: inc.declaredAt, resolvedAt: inc.resolvedAt });
  const md = (s: string) => s.replace(/([\\`*_[\]|<>])/g, '\\$1');
  const lines = [
    `# Incident ${inc.id}: ${md(inc.title)}`,
    '',
    `- Severity: ${inc.severity}`,
    `- Status: ${inc.status}`,
    `- Lead: @${inc.lead}; declared by @${inc.declaredBy} at ${time(inc.declaredAt)} UTC`,
    ...(inc.resolvedAt !== null ? [`- Resolved at ${time(inc.resolvedAt)} UTC${inc.resolvedBy ? ` by @${inc.resolvedBy}` : ''}`] : []),
    ...(inc.summary ? [`- Summary: ${md(inc.summary)}`] : []),
    '',
    '## Response times',
    '',
    `- Time to acknowledge: ${span(t.ackFromAlertMs)} from the first alert, ${span(t.ackFromDeclareMs)} from the declaration`,
    `- Time to resolve: ${span(t.resolveFromAlertMs)} from the first alert, ${span(t.resolveFromDeclareMs)} from the declaration`,
    '',
    '## Timeline (UTC)',
    '',
    '| time | what |',
    '|---|---|',
    ...r.items.map((i) => `| ${time(i.at)} | ${md(itemText(i))} |`),
    '',
    `Took part: ${participants(r.items).map((u) => `@${u}`).join(', ') || 'nobody recorded'}.`,
    '',
    rangeNote(r),
    '',
    ...POSTMORTEM_HEADINGS.flatMap((h) => [`## ${h}`, '', '_to fill in_', '']),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}
