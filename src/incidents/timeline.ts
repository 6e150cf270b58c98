import type { RichText } from '../core/reply.ts';
import type { AuditRow } from '../audit/chain.ts';

/** What happened, in the words the timeline, the channel and the write-up use. */
export type TimelineKind =
  | 'alert.fired'
  | 'alert.resolved'
  | 'alert.ack'
  | 'alert.unack'
  | 'incident.declare'
  | 'incident.link'
  | 'incident.update'
  | 'incident.lead'
  | 'incident.severity'
  | 'incident.resolve'
  | 'action';

export interface TimelineItem {
  /** Stable across rebuilds: the channel shows each item once by this key. */
  key: string;
  at: number;
  kind: TimelineKind;
  text: RichText;
  /** Who did it (a Slack user id, or `vigil`), for "who took part". */
  actor: string | null;
  /** The audit event it came from; null for what the alert tables hold (a group firing, resolving). */
  auditId: number | null;
}

/** One alert of a group: what tells it apart from the others (its own labels), when it fired and resolved. */
export interface TimelineAlert {
  fingerprint: string;
  label: string;
  startsAt: number;
  endsAt: number | null;
}

/** An alert group as the timeline reads it. */
export interface TimelineGroup {
  groupId: string;
  epoch: number;
  title: string;
  firedAt: number;
  resolvedAt: number | null;
  /** Its alerts; those joining after it fired, or resolving while it still fires, are items of their own. */
  alerts?: readonly TimelineAlert[];
}

// When a group's firing or resolving (Alertmanager's times) shares a millisecond with an audit event,
// the one that must come first: an alert fires before anyone declares or acknowledges it, and an
// alert resolving comes before the incident's resolution.
const RANK: Record<TimelineKind, number> = {
  'alert.fired': 0,
  'incident.declare': 1,
  'incident.link': 2,
  'alert.ack': 3,
  'alert.unack': 3,
  action: 4,
  'incident.lead': 5,
  'incident.severity': 5,
  'incident.update': 6,
  'alert.resolved': 7,
  'incident.resolve': 8,
};

/**
 * Oldest first. Within one millisecond two audit events keep the trail's own order (its ids are
 * the order things were recorded in); against what the alert tables hold (no id) the kind decides.
 */
export function orderTimeline(items: readonly TimelineItem[]): TimelineItem[] {
  const tie = (a: TimelineItem, b: TimelineItem) => (a.auditId !== null && b.auditId !== null ? a.auditId - b.auditId : RANK[a.kind] - RANK[b.kind]);
  return [...items].sort((a, b) => a.at - b.at || tie(a, b) || a.key.localeCompare(b.key));
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** One audit event of the incident, its groups or its actions as a timeline item (null: not shown). */
export function itemFromAudit(e: AuditRow, groupTitle: (groupId: string) => string): TimelineItem | null {
  const who = e.actorId;
  const base = { key: `audit:${e.id}`, at: e.at.getTime(), actor: who, auditId: e.id };
  const d = e.details;
  switch (e.kind) {
    case 'incident.declare':
      return { ...base, kind: 'incident.declare', text: ['Declared by ', { user: who }, `: ${str(d.title)} (${str(d.severity)}), lead `, { user: str(d.lead) || who }] };
    case 'incident.link':
      return { ...base, kind: 'incident.link', text: ['Alert ', str(d.title) || e.outcome, ' linked by ', { user: who }] };
    case 'incident.update':
      return { ...base, kind: 'incident.update', text: ['Update from ', { user: who }, `: ${str(d.text)}`] };
    case 'incident.lead':
      return { ...base, kind: 'incident.lead', text: ['Lead handed to ', { user: str(d.lead) }, ' by ', { user: who }] };
    case 'incident.severity':
      return { ...base, kind: 'incident.severity', text: [`Severity changed to ${str(d.severity)} by `, { user: who }] };
    case 'incident.resolve':
      return { ...base, kind: 'incident.resolve', text: ['Resolved by ', { user: who }, `: ${str(d.summary)}`] };
    case 'alert.ack':
      return e.outcome === 'acked' ? { ...base, kind: 'alert.ack', text: [`${groupTitle(e.subject)} acknowledged by `, { user: who }] } : null;
    case 'alert.unack':
      return e.outcome === 'unacked' ? { ...base, kind: 'alert.unack', text: [`${groupTitle(e.subject)}: acknowledgement taken back by `, { user: who }] } : null;
    default:
      if (e.kind.startsWith('action.') && e.requestId) return { ...base, kind: 'action', text: actionText(e) };
      return null;
  }
}

function actionText(e: AuditRow): RichText {
  const id = e.requestId ?? '';
  switch (e.kind) {
    case 'action.request':
      return ['Action ', e.subject, ` requested (${id}) by `, { user: e.actorId }, e.outcome === 'refused' ? ': refused' : ''];
    case 'action.approve':
      return [`Action ${e.subject} (${id}) approved by `, { user: e.actorId }];
    case 'action.deny':
      return [`Action ${e.subject} (${id}) denied by `, { user: e.actorId }];
    case 'action.start':
      return `Action ${e.subject} (${id}) started`;
    case 'action.end':
      return `Action ${e.subject} (${id}) ended: ${e.outcome}${str(e.details.summary) ? ` (${str(e.details.summary).slice(0, 300)})` : ''}`;
    default:
      return `Action ${e.subject} (${id}): ${e.kind.slice('action.'.length)} ${e.outcome}`;
  }
}

/**
 * A linked group's firing and resolving, from the alert tables (Alertmanager's times), and each of
 * its alerts that joined after the group fired or resolved before the group did.
 */
export function itemsFromGroup(g: TimelineGroup): TimelineItem[] {
  const key = `group:${g.groupId}:${g.epoch}`;
  const item = (k: string, at: number, kind: TimelineKind, text: string): TimelineItem => ({ key: `${key}:${k}`, at, kind, text, actor: null, auditId: null });
  const items: TimelineItem[] = [item('fired', g.firedAt, 'alert.fired', `🔥 ${g.title} fired`)];
  const alerts = g.alerts ?? [];
  // The last alerts to resolve resolve the group: the group's own item says so.
  const lastEnd = g.resolvedAt === null ? Infinity : Math.max(...alerts.map((a) => a.endsAt ?? Infinity));
  for (const a of alerts) {
    if (a.startsAt > g.firedAt) items.push(item(`alert:${a.fingerprint}:fired`, a.startsAt, 'alert.fired', `🔥 ${g.title}: ${a.label} firing too`));
    if (a.endsAt !== null && a.endsAt < lastEnd) items.push(item(`alert:${a.fingerprint}:resolved`, a.endsAt, 'alert.resolved', `✅ ${g.title}: ${a.label} resolved`));
  }
  if (g.resolvedAt !== null) items.push(item('resolved', g.resolvedAt, 'alert.resolved', `✅ ${g.title} resolved`));
  return items;
}

/** Everyone who did something in it (Vigil itself left out), in the order they first did. */
export function participants(items: readonly TimelineItem[]): string[] {
  const seen = new Set<string>();
  for (const i of items) if (i.actor && i.actor !== 'vigil') seen.add(i.actor);
  return [...seen];
}
