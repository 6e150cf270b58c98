import type { AlertGroup } from '../alerts/group.ts';
import { ALERT_MESSAGE_ACCESS, groupTitle } from '../alerts/message.ts';
import { loadGroup } from '../alerts/store.ts';
import { AppError } from '../core/errors.ts';
import type { InteractionHandler } from '../core/interactions.ts';
import type { Button, Ref } from '../core/reply.ts';
import type { StateStore } from '../db/state.ts';
import type { IncidentService } from './service.ts';
import { INCIDENT_SEVERITIES, loadIncident, openIncidentOfGroup, type Incident, type IncidentSeverity } from './store.ts';

/** The Declare incident button on a critical or warning alert group's message, and its form. */
export const DECLARE_HANDLER = 'incidents.declare';
export const DECLARE_FORM = 'incidents.declare-form';

const VALUE = /^([0-9a-f]{24}):(\d{1,9})$/;
const USER = /^<?@?([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>?$/;
// Alert severities a Declare button is offered for.
const DECLARABLE = new Set(['critical', 'error', 'warning']);
const SEVERITY_OF: Record<string, IncidentSeverity> = { critical: 'sev1', error: 'sev1', warning: 'sev2' };

/** The button for a group's message (firing critical or warning groups only), or none. */
export function declareButton(g: AlertGroup): Button[] {
  if (g.status !== 'firing' || !DECLARABLE.has(g.severity)) return [];
  return [{ handler: DECLARE_HANDLER, label: 'Declare incident', value: `${g.groupId}:${g.epoch}`, style: 'danger' }];
}

const where = (inc: Incident): Array<string | Ref> => (inc.channelId ? [{ channel: inc.channelId }] : [`#${inc.channelName} (being created)`]);

function alreadyReply(inc: Incident) {
  return { reply: { title: `Incident ${inc.id}`, status: 'info' as const, summary: [`This alert is already part of incident ${inc.id} (${inc.title}): join `, ...where(inc), '.'] } };
}

/**
 * Declare from an alert's message: the click opens a short form (title, severity, lead); its
 * submission declares. A group already in an open incident answers with that incident instead of
 * a form, and a submission racing another one for the same group links to the incident that won.
 */
export function declareHandlers(deps: { state: StateStore; incidents: IncidentService }): InteractionHandler[] {
  const pool = async () => {
    const s = await deps.state.ready();
    if (s.kind !== 'ready') throw new AppError('dependency_unavailable', `Cannot declare now: ${s.why}.`);
    return s.pool;
  };
  const groupOf = async (value: string) => {
    const match = VALUE.exec(value);
    if (!match) throw new AppError('stale', 'This button does not name an alert group.');
    const db = await pool();
    const group = await loadGroup(db, match[1] as string);
    if (!group) throw new AppError('stale', 'Vigil no longer knows this alert group.');
    return { db, group, epoch: Number(match[2]) };
  };
  const click: InteractionHandler = {
    id: DECLARE_HANDLER,
    access: ALERT_MESSAGE_ACCESS,
    async handle(interaction) {
      if (interaction.kind !== 'button') throw new AppError('stale', 'Declare is a button.');
      const { db, group, epoch } = await groupOf(interaction.value);
      const existing = await openIncidentOfGroup(db, group.groupId);
      if (existing !== null) return alreadyReply((await loadIncident(db, existing)) as Incident);
      if (group.epoch !== epoch || group.status !== 'firing') throw new AppError('stale', 'This alert group is no longer firing as this message showed it; declare with /incident declare instead.');
      return {
        form: {
          handler: DECLARE_FORM,
          title: 'Declare incident',
          intro: `A channel of its own, with on-call invited, for ${groupTitle(group)} (${group.severity}).`,
          submit: 'Declare',
          privateMetadata: interaction.value,
          fields: [
            { id: 'title', label: 'Title', hint: `Leave empty for "${groupTitle(group).slice(0, 60)}"`, maxLength: 120 },
            { id: 'severity', label: 'Severity', options: INCIDENT_SEVERITIES.map((s) => ({ value: s, label: s.toUpperCase() })), initial: SEVERITY_OF[group.severity] ?? 'sev2' },
            { id: 'lead', label: 'Lead', hint: 'Who leads it (default: you)', person: true, initial: interaction.invoker.userId },
          ],
        },
      };
    },
  };
  const form: InteractionHandler = {
    id: DECLARE_FORM,
    access: ALERT_MESSAGE_ACCESS,
    async handle(interaction) {
      if (interaction.kind !== 'form') throw new AppError('stale', 'This form was not submitted.');
      const { group, epoch } = await groupOf(interaction.privateMetadata);
      const lead = (interaction.values.lead ?? '').trim();
      const leadId = lead === '' ? interaction.invoker.userId : USER.exec(lead)?.[1];
      if (!leadId) return { errors: { lead: 'Pick a person (a Slack user id like U0123ABCD in the terminal).' } };
      const sev = interaction.values.severity;
      const severity = INCIDENT_SEVERITIES.find((s) => s === sev);
      const title = (interaction.values.title ?? '').trim();
      const declared = await deps.incidents.declare({ group: { groupId: group.groupId, epoch }, lead: leadId, ...(severity ? { severity } : {}), ...(title ? { title } : {}) }, interaction.invoker);
      if (declared.kind === 'existing') return alreadyReply(declared.incident);
      const inc = declared.incident;
      return { reply: { title: `Incident ${inc.id} declared`, status: 'ok', summary: [`${inc.title} (${inc.severity}), lead `, { user: inc.lead }, `: its channel #${inc.channelName} opens in a moment, with you and on-call invited.`] } };
    },
  };
  return [click, form];
}
