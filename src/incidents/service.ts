import type pg from 'pg';
import type { AuditChain, AuditEvent } from '../audit/chain.ts';
import { groupTitle } from '../alerts/message.ts';
import { firingGroups, loadGroup } from '../alerts/store.ts';
import type { IncidentsConfig } from '../config/incidents-config.ts';
import type { Invoker } from '../core/command.ts';
import { AppError } from '../core/errors.ts';
import type { Queryable } from '../db/queryable.ts';
import { inTransaction } from '../db/transaction.ts';
import { incidentChannelName } from './channel-name.ts';
import {
  incidentByChannel, insertIncident, insertLink, insertUpdate, loadIncident, markResolved, openIncidentOfGroup, openIncidents, setIncidentFields,
  type Incident, type IncidentSeverity,
} from './store.ts';
import { incidentSubject, loadIncidentRecord, type IncidentRecord } from './timeline-source.ts';

export interface DeclareInput {
  title?: string;
  severity?: IncidentSeverity;
  lead?: string;
  /** Declared from an alert group's message (its Declare button). */
  group?: { groupId: string; epoch: number };
}

export type Declared = { kind: 'declared'; incident: Incident } | { kind: 'existing'; incident: Incident };

/** What /incident and the Declare button do; every change one transaction with its audit event. */
export interface IncidentService {
  declare(input: DeclareInput, invoker: Invoker): Promise<Declared>;
  /** The incident meant here: the one whose channel this is, else `id`, else the only open one. */
  find(invoker: Invoker, id?: number): Promise<Incident>;
  update(inc: Incident, invoker: Invoker, text: string): Promise<void>;
  setLead(inc: Incident, invoker: Invoker, lead: string): Promise<void>;
  setSeverity(inc: Incident, invoker: Invoker, severity: IncidentSeverity): Promise<void>;
  /** Link a firing alert group, by its alert name or group id. */
  link(inc: Incident, invoker: Invoker, alert: string): Promise<string>;
  record(inc: Incident): Promise<IncidentRecord>;
  resolve(inc: Incident, invoker: Invoker, summary: string): Promise<IncidentRecord>;
  open(): Promise<Incident[]>;
}

export interface IncidentServiceDeps {
  /** Vigil's state pool once its schema is migrated: a dependency_unavailable error otherwise. */
  db: () => Promise<pg.Pool>;
  audit: AuditChain;
  cfg: IncidentsConfig;
  /** Something changed: the channel worker and the relay look now. */
  changed: () => void;
}

const UNIQUE_VIOLATION = '23505';
const SEVERITY_OF_ALERT: Record<string, IncidentSeverity> = { critical: 'sev1', error: 'sev1', warning: 'sev2' };

const actor = (i: Invoker) => ({ actorId: i.userId, ...(i.userName ? { actorName: i.userName } : {}), ...(i.channelId ? { channel: i.channelId } : {}) });

export function createIncidentService(deps: IncidentServiceDeps): IncidentService {
  const { cfg } = deps;

  /** One change and its audit event (appended last: the chain's lock is held until commit). */
  async function change(inc: Incident, invoker: Invoker, kind: string, outcome: string, details: Record<string, unknown>, work: (db: Queryable) => Promise<void>) {
    await inTransaction(await deps.db(), async (client) => {
      const now = await loadIncident(client, inc.id, { forUpdate: true });
      if (!now || now.status !== 'open') throw new AppError('stale', `Incident ${inc.id} is resolved; nothing changes it any more.`);
      await work(client);
      await deps.audit.append(client, [{ ...actor(invoker), kind, subject: incidentSubject(inc.id), outcome, details } satisfies AuditEvent]);
    });
    deps.changed();
  }

  async function declareOnce(input: DeclareInput, invoker: Invoker): Promise<Declared> {
    return inTransaction(await deps.db(), async (client) => {
      const group = input.group ? await loadGroup(client, input.group.groupId) : null;
      if (input.group && !group) throw new AppError('stale', 'Vigil no longer knows this alert group.');
      if (group) {
        const existing = await openIncidentOfGroup(client, group.groupId);
        if (existing !== null) return { kind: 'existing', incident: (await loadIncident(client, existing)) as Incident };
      }
      const title = (input.title ?? (group ? groupTitle(group) : '')).trim();
      if (!title) throw new AppError('bad_args', 'An incident needs a title, e.g. /incident declare Checkout errors');
      const lead = input.lead ?? invoker.userId;
      const incident = await insertIncident(client, {
        title,
        severity: input.severity ?? (group ? (SEVERITY_OF_ALERT[group.severity] ?? 'sev3') : 'sev2'),
        lead,
        declaredBy: invoker.userId,
        channelName: (id, at) => incidentChannelName({ prefix: cfg.channelPrefix, declaredAt: at, title, id }),
        inviteUsers: [...new Set([invoker.userId, lead, ...cfg.invite.users])].filter((u) => /^[UW][A-Z0-9]+$/.test(u)),
        inviteGroups: cfg.invite.userGroups,
      });
      // The guard: a unique index allows one open link per group. A second declaration racing this
      // one fails here (after this one commits) and is tried again, then finds this incident.
      if (group) await insertLink(client, incident.id, group.groupId, input.group?.epoch ?? group.epoch, invoker.userId);
      const details = { title, severity: incident.severity, lead, group: group?.groupId ?? null, alert: group ? groupTitle(group) : null };
      await deps.audit.append(client, [{ ...actor(invoker), kind: 'incident.declare', subject: incidentSubject(incident.id), outcome: 'declared', details }]);
      return { kind: 'declared', incident };
    });
  }

  return {
    async declare(input, invoker) {
      let declared: Declared;
      try {
        declared = await declareOnce(input, invoker);
      } catch (err) {
        if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
        declared = await declareOnce(input, invoker);
      }
      if (declared.kind === 'declared') deps.changed();
      return declared;
    },
    async find(invoker, id) {
      const pool = await deps.db();
      if (id !== undefined) {
        const inc = await loadIncident(pool, id);
        if (!inc) throw new AppError('not_found', `Vigil knows no incident ${id}.`);
        return inc;
      }
      const here = invoker.channelId ? await incidentByChannel(pool, invoker.channelId) : null;
      if (here) return here;
      const open = await openIncidents(pool, 10);
      if (open.length === 1 && open[0]) return open[0];
      if (open.length === 0) throw new AppError('not_found', 'No incident is open. /incident declare <title> declares one.');
      throw new AppError('bad_args', `Several incidents are open (${open.map((i) => i.id).join(', ')}): run this in the incident's channel, or add --id N.`);
    },
    update: (inc, invoker, text) =>
      change(inc, invoker, 'incident.update', 'posted', { text }, async (db) => {
        await insertUpdate(db, inc.id, invoker.userId, text);
      }),
    setLead: (inc, invoker, lead) =>
      change(inc, invoker, 'incident.lead', 'changed', { lead, was: inc.lead }, async (db) => {
        await setIncidentFields(db, inc.id, { lead });
      }),
    setSeverity: (inc, invoker, severity) =>
      change(inc, invoker, 'incident.severity', 'changed', { severity, was: inc.severity }, async (db) => {
        await setIncidentFields(db, inc.id, { severity });
      }),
    async link(inc, invoker, alert) {
      const pool = await deps.db();
      const firing = await firingGroups(pool);
      const group = firing.find((g) => g.groupId === alert) ?? firing.find((g) => groupTitle(g) === alert);
      if (!group) throw new AppError('not_found', `No firing alert group is called ${alert}; /alerts lists them.`);
      const other = await openIncidentOfGroup(pool, group.groupId);
      if (other !== null) return other === inc.id ? `${groupTitle(group)} is already linked.` : `${groupTitle(group)} belongs to incident ${other} already.`;
      try {
        await change(inc, invoker, 'incident.link', groupTitle(group), { group: group.groupId, title: groupTitle(group) }, (db) => insertLink(db, inc.id, group.groupId, group.epoch, invoker.userId));
      } catch (err) {
        // Linked or declared elsewhere in the meantime: the unique index kept it to one incident.
        if ((err as { code?: unknown }).code === UNIQUE_VIOLATION) return `${groupTitle(group)} was linked to an incident by someone else just now; /incident list shows it.`;
        throw err;
      }
      return `${groupTitle(group)} is linked: its changes show in the incident's channel from now on.`;
    },
    record: async (inc) => loadIncidentRecord(await deps.db(), inc),
    async resolve(inc, invoker, summary) {
      const pool = await deps.db();
      const resolved = await inTransaction(pool, async (client) => {
        const done = await markResolved(client, inc.id, invoker.userId, summary);
        if (!done) throw new AppError('stale', `Incident ${inc.id} is already resolved.`);
        await deps.audit.append(client, [{ ...actor(invoker), kind: 'incident.resolve', subject: incidentSubject(inc.id), outcome: 'resolved', details: { summary } }]);
        return done;
      });
      deps.changed();
      return loadIncidentRecord(pool, resolved);
    },
    open: async () => openIncidents(await deps.db()),
  };
}
