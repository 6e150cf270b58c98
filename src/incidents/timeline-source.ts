import { AUDIT_COLUMNS, AUDIT_TABLE, toAuditRow } from '../audit/chain.ts';
import { groupTitle } from '../alerts/message.ts';
import { loadGroup } from '../alerts/store.ts';
import { alertLabel } from '../alerts/group.ts';
import type { Queryable } from '../db/queryable.ts';
import { linksOf, type Incident, type IncidentLink } from './store.ts';
import { itemFromAudit, itemsFromGroup, orderTimeline, type TimelineGroup, type TimelineItem } from './timeline.ts';

/** The audit events a timeline was built from: the first and last id, and the last one's hash. */
export interface AuditRange {
  fromId: number;
  toId: number;
  toHash: string;
}

export interface IncidentRecord {
  incident: Incident;
  links: IncidentLink[];
  groups: TimelineGroup[];
  /** Oldest first (orderTimeline). */
  items: TimelineItem[];
  audit: AuditRange | null;
}

export const incidentSubject = (id: number) => `incident:${id}`;

/**
 * Everything an incident's timeline shows, read from where it is recorded: its own audit events
 * (declare, link, update, lead, severity, resolve), the linked groups' rows (fired, resolved at the
 * times Alertmanager gave), the acknowledgements audited on those groups, and every step of the
 * actions requested from its channel or for its alerts since the first one fired. A resolved
 * incident's timeline ends with its resolution: what came after is not part of it.
 */
export async function loadIncidentRecord(db: Queryable, incident: Incident): Promise<IncidentRecord> {
  const links = await linksOf(db, incident.id);
  const groups: TimelineGroup[] = [];
  const alertnames: string[] = [];
  for (const link of links) {
    const g = await loadGroup(db, link.groupId);
    if (!g) continue;
    const sameFiring = g.epoch === link.epoch;
    // A later firing of the group (a new epoch) is not this incident's: its alerts are left out.
    const alerts = sameFiring
      ? Object.values(g.view.alerts).map((a) => ({ fingerprint: a.fingerprint, label: alertLabel(a, g.view.commonLabels), startsAt: Date.parse(a.startsAt), endsAt: a.status === 'resolved' && a.endsAt ? Date.parse(a.endsAt) : null }))
      : [];
    groups.push({ groupId: g.groupId, epoch: link.epoch, title: groupTitle(g), firedAt: g.firedAt, resolvedAt: g.resolvedAt, alerts: alerts.filter((a) => Number.isFinite(a.startsAt)) });
    if (g.view.commonLabels.alertname) alertnames.push(g.view.commonLabels.alertname);
  }
  const since = new Date(Math.min(incident.declaredAt, ...groups.map((g) => g.firedAt)));
  // Three indexed lookups (by subject, by request id) rather than one OR across them, which would
  // read the whole trail: the relay asks this every second for every open incident.
  const { rows } = await db.query(
    `SELECT /* vigil:incident timeline */ ${AUDIT_COLUMNS} FROM ${AUDIT_TABLE} WHERE subject = $1
     UNION
     SELECT ${AUDIT_COLUMNS} FROM ${AUDIT_TABLE} WHERE subject = ANY($2::text[]) AND kind IN ('alert.ack', 'alert.unack') AND at >= $3
     UNION
     SELECT ${AUDIT_COLUMNS} FROM ${AUDIT_TABLE}
      WHERE request_id IN (SELECT id FROM vigil.action_requests WHERE created_at >= $3 AND (channel = $4 OR params->>'alertname' = ANY($5::text[])))
     ORDER BY id LIMIT 5000`,
    [incidentSubject(incident.id), groups.map((g) => g.groupId), since, incident.channelId ?? '', alertnames],
  );
  const titles = new Map(groups.map((g) => [g.groupId, g.title]));
  const events = rows.map((r) => toAuditRow(r as Record<string, unknown>));
  // A resolved incident stops at its resolution (the audit event that recorded it).
  const resolveEvent = events.find((e) => e.kind === 'incident.resolve');
  const until = resolveEvent ? resolveEvent.at.getTime() : Infinity;
  const fromAudit = events.filter((e) => !resolveEvent || e.id <= resolveEvent.id).flatMap((e) => itemFromAudit(e, (id) => titles.get(id) ?? id) ?? []);
  const fromGroups = groups.flatMap(itemsFromGroup).filter((i) => i.at <= until);
  const items = orderTimeline([...fromGroups, ...fromAudit]);
  const used = events.filter((e) => items.some((i) => i.auditId === e.id));
  const first = used[0];
  const last = used.at(-1);
  return { incident, links, groups, items, audit: first && last ? { fromId: first.id, toId: last.id, toHash: last.hash } : null };
}
