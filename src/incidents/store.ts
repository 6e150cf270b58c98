import { z } from 'zod';
import type { Queryable } from '../db/queryable.ts';

export const INCIDENT_SEVERITIES = ['sev1', 'sev2', 'sev3'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

/** One row of `vigil.incidents`; times in ms. */
export interface Incident {
  id: number;
  title: string;
  severity: IncidentSeverity;
  lead: string;
  declaredBy: string;
  declaredAt: number;
  status: 'open' | 'resolved';
  channelName: string;
  nameAttempt: number;
  channelId: string | null;
  inviteUsers: string[];
  inviteGroups: string[];
  invited: string[];
  purposeSet: boolean;
  topicSet: string | null;
  syncError: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  summary: string | null;
  auditFrom: number | null;
  auditTo: number | null;
}

/** An alert group an incident is about. */
export interface IncidentLink {
  groupId: string;
  epoch: number;
  linkedBy: string;
  linkedAt: number;
}

export const INCIDENT_TABLES = {
  incidents: 'vigil.incidents',
  groups: 'vigil.incident_groups',
  updates: 'vigil.incident_updates',
  relayed: 'vigil.incident_relayed',
} as const;
const T = INCIDENT_TABLES;

const ms = z.date().transform((d) => d.getTime());
const bigint = z.union([z.string(), z.number()]).transform(Number);
const row = z.object({
  id: bigint,
  title: z.string(),
  severity: z.enum(INCIDENT_SEVERITIES),
  lead: z.string(),
  declared_by: z.string(),
  declared_at: ms,
  status: z.enum(['open', 'resolved']),
  channel_name: z.string(),
  name_attempt: z.number(),
  channel_id: z.string().nullable(),
  invite_users: z.array(z.string()),
  invite_groups: z.array(z.string()),
  invited: z.array(z.string()),
  purpose_set: z.boolean(),
  topic_set: z.string().nullable(),
  sync_error: z.string().nullable(),
  resolved_at: ms.nullable(),
  resolved_by: z.string().nullable(),
  summary: z.string().nullable(),
  audit_from: bigint.nullable(),
  audit_to: bigint.nullable(),
});

export function incidentFromRow(r: unknown): Incident {
  const p = row.parse(r);
  return {
    id: p.id,
    title: p.title,
    severity: p.severity,
    lead: p.lead,
    declaredBy: p.declared_by,
    declaredAt: p.declared_at,
    status: p.status,
    channelName: p.channel_name,
    nameAttempt: p.name_attempt,
    channelId: p.channel_id,
    inviteUsers: p.invite_users,
    inviteGroups: p.invite_groups,
    invited: p.invited,
    purposeSet: p.purpose_set,
    topicSet: p.topic_set,
    syncError: p.sync_error,
    resolvedAt: p.resolved_at,
    resolvedBy: p.resolved_by,
    summary: p.summary,
    auditFrom: p.audit_from,
    auditTo: p.audit_to,
  };
}

export async function loadIncident(db: Queryable, id: number, opts: { forUpdate?: boolean } = {}): Promise<Incident | null> {
  const { rows } = await db.query(`SELECT * FROM ${T.incidents} WHERE id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows.length > 0 ? incidentFromRow(rows[0]) : null;
}

export async function incidentByChannel(db: Queryable, channelId: string): Promise<Incident | null> {
  const { rows } = await db.query(`SELECT * FROM ${T.incidents} WHERE channel_id = $1`, [channelId]);
  return rows.length > 0 ? incidentFromRow(rows[0]) : null;
}

export async function openIncidents(db: Queryable, limit = 50): Promise<Incident[]> {
  const { rows } = await db.query(`SELECT * FROM ${T.incidents} WHERE status = 'open' ORDER BY id LIMIT $1`, [limit]);
  return rows.map(incidentFromRow);
}

export async function linksOf(db: Queryable, incidentId: number): Promise<IncidentLink[]> {
  const { rows } = await db.query(`SELECT group_id, epoch, linked_by, linked_at FROM ${T.groups} WHERE incident_id = $1 ORDER BY linked_at, group_id`, [incidentId]);
  return rows.map((r) => {
    const p = z.object({ group_id: z.string(), epoch: z.number(), linked_by: z.string(), linked_at: ms }).parse(r);
    return { groupId: p.group_id, epoch: p.epoch, linkedBy: p.linked_by, linkedAt: p.linked_at };
  });
}

/** The open incident an alert group is linked to, if any. */
export async function openIncidentOfGroup(db: Queryable, groupId: string): Promise<number | null> {
  const { rows } = await db.query(`SELECT incident_id FROM ${T.groups} WHERE group_id = $1 AND open`, [groupId]);
  return rows.length > 0 ? Number((rows[0] as { incident_id: string }).incident_id) : null;
}

/** The open incident worked for this firing of a group, once it has a channel: what the alert's message links to. */
export async function incidentShownOnGroup(db: Queryable, groupId: string, epoch: number): Promise<{ id: number; channelId: string } | null> {
  const { rows } = await db.query(
    `SELECT /* vigil:incident of group */ i.id, i.channel_id FROM ${T.groups} l JOIN ${T.incidents} i ON i.id = l.incident_id
      WHERE l.group_id = $1 AND l.open AND l.epoch = $2 AND i.channel_id IS NOT NULL`,
    [groupId, epoch],
  );
  const row = rows[0] as { id: string; channel_id: string } | undefined;
  return row ? { id: Number(row.id), channelId: row.channel_id } : null;
}

export interface NewIncident {
  title: string;
  severity: IncidentSeverity;
  lead: string;
  declaredBy: string;
  channelName: (id: number, declaredAt: Date) => string;
  inviteUsers: string[];
  inviteGroups: string[];
}

/** Insert the incident row; the channel name depends on its id and time, so it is set right after. */
export async function insertIncident(db: Queryable, n: NewIncident): Promise<Incident> {
  const { rows } = await db.query(
    `INSERT INTO ${T.incidents} (title, severity, lead, declared_by, channel_name, invite_users, invite_groups)
     VALUES ($1, $2, $3, $4, '', $5, $6) RETURNING id, declared_at`,
    [n.title, n.severity, n.lead, n.declaredBy, n.inviteUsers, n.inviteGroups],
  );
  const created = z.object({ id: bigint, declared_at: z.date() }).parse(rows[0]);
  const name = n.channelName(created.id, created.declared_at);
  const { rows: updated } = await db.query(`UPDATE ${T.incidents} SET channel_name = $2 WHERE id = $1 RETURNING *`, [created.id, name]);
  return incidentFromRow(updated[0]);
}

/** Link a group; a unique index refuses a second open link of the same group (SQLSTATE 23505). */
export async function insertLink(db: Queryable, incidentId: number, groupId: string, epoch: number, by: string): Promise<void> {
  await db.query(`INSERT INTO ${T.groups} (incident_id, group_id, epoch, linked_by) VALUES ($1, $2, $3, $4)`, [incidentId, groupId, epoch, by]);
}

export async function insertUpdate(db: Queryable, incidentId: number, author: string, text: string): Promise<number> {
  const { rows } = await db.query(`INSERT INTO ${T.updates} (incident_id, author, text) VALUES ($1, $2, $3) RETURNING id`, [incidentId, author, text]);
  return Number((rows[0] as { id: string }).id);
}

/** Change what the people working it change (lead, severity); the channel worker follows with the topic and the invite. */
export async function setIncidentFields(db: Queryable, id: number, fields: { lead?: string; severity?: IncidentSeverity }): Promise<void> {
  await db.query(
    `UPDATE ${T.incidents} SET lead = coalesce($2, lead), severity = coalesce($3, severity),
       invite_users = CASE WHEN $2::text IS NULL OR $2 = ANY(invite_users) THEN invite_users ELSE invite_users || $2::text END
     WHERE id = $1`,
    [id, fields.lead ?? null, fields.severity ?? null],
  );
}

/** Resolve an open incident: one guarded UPDATE, so a second resolve changes nothing. */
export async function markResolved(db: Queryable, id: number, by: string, summary: string): Promise<Incident | null> {
  const { rows } = await db.query(
    `UPDATE ${T.incidents} SET status = 'resolved', resolved_at = now(), resolved_by = $2, summary = $3 WHERE id = $1 AND status = 'open' RETURNING *`,
    [id, by, summary],
  );
  if (rows.length === 0) return null;
  await db.query(`UPDATE ${T.groups} SET open = false WHERE incident_id = $1`, [id]);
  return incidentFromRow(rows[0]);
}

export async function setAuditRange(db: Queryable, id: number, from: number, to: number): Promise<void> {
  await db.query(`UPDATE ${T.incidents} SET audit_from = $2, audit_to = $3 WHERE id = $1`, [id, from, to]);
}
