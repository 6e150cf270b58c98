import type { Button, Reply, RichText, Status } from '../core/reply.ts';
import { alertLabel, duration, type AlertGroup } from './group.ts';
import { ruleNameOf } from './rules/rule-group-key.ts';
import type { AlertInstance } from './notification.ts';

/**
 * The access policy's name for acting on an alert's message (acknowledge, unacknowledge, silence,
 * resolve by hand): `access.alerts.acknowledge` in the config.
 */
export const ALERT_MESSAGE_ACCESS = 'alerts.acknowledge';

/** The interaction handlers behind the Acknowledge and Unacknowledge buttons. */
export const ACK_HANDLER = 'alerts.ack';
export const UNACK_HANDLER = 'alerts.unack';
/** Resolve by hand, on Vigil's own rule alerts (src/alerts/resolve-by-hand.ts). */
export const RESOLVE_HANDLER = 'alerts.resolve';
/** The annotation a resolve by hand leaves: who did it. */
export const RESOLVED_BY = 'vigil_resolved_by';

// Alerts listed one by one in a message; the rest are counted (Slack caps a message at 50 blocks).
const MAX_LISTED = 15;
// Labels every alert has that say nothing about this one.
const HIDDEN_LABELS = new Set(['alertname', 'severity']);

const STATUS_OF: Record<string, Status> = { critical: 'fail', error: 'fail', warning: 'warn' };

/** The name on the message: the alert name the group shares, else its group labels. */
export function groupTitle(g: Pick<AlertGroup, 'view' | 'groupKey'>): string {
  const { commonLabels, groupLabels } = g.view;
  if (commonLabels.alertname) return commonLabels.alertname;
  const labels = Object.entries(groupLabels).map(([k, v]) => `${k}=${v}`);
  return labels.length > 0 ? labels.join(', ') : g.groupKey;
}

/**
 * The group's living message as a transport-neutral Reply: severity, summary, description, key
 * labels, since when, the alerts, who acknowledged, and links to runbook, source and dashboard.
 */
export function groupReply(g: AlertGroup, now: number, actions: readonly Button[] = [], incident: { id: number; channelId: string } | null = null): Reply {
  const all = Object.values(g.view.alerts);
  const firingAlerts = all.filter((a) => a.status === 'firing');
  const resolved = g.status === 'resolved';
  const sev = g.severity.toUpperCase();
  const title = resolved ? `✅ RESOLVED · ${groupTitle(g)}` : `🔥 ${sev} · ${groupTitle(g)}`;
  const annotations = { ...firstAnnotations(all), ...g.view.commonAnnotations };

  const summary = annotations.summary ?? annotations.message ?? `${firingAlerts.length} of ${all.length} alert(s) firing`;
  const fields = [
    { label: 'Severity', value: g.severity },
    // A message is not re-rendered as time passes: an absolute time, never "12m ago".
    resolved ? { label: 'Fired', value: `${iso(g.firedAt)}, lasted ${duration((g.resolvedAt ?? now) - g.firedAt)}` } : { label: 'Firing since', value: iso(g.firedAt) },
    { label: 'Alerts', value: resolved ? `${all.length} resolved` : `${firingAlerts.length} firing${all.length > firingAlerts.length ? `, ${all.length - firingAlerts.length} resolved` : ''}` },
    ...Object.entries(g.view.commonLabels)
      .filter(([k]) => !HIDDEN_LABELS.has(k))
      .slice(0, 7)
      .map(([label, value]) => ({ label, value })),
  ];
  const listed = [...firingAlerts, ...all.filter((a) => a.status === 'resolved')].slice(0, MAX_LISTED);
  const rows = listed.map((a) => [a.status === 'firing' ? 'firing' : 'resolved', alertLabel(a, g.view.commonLabels), iso(Date.parse(a.startsAt))]);

  const notes: RichText[] = [];
  if (incident) notes.push([`🚨 Incident ${incident.id} is worked in `, { channel: incident.channelId }, '.']);
  if (all.length > listed.length) notes.push(`${all.length - listed.length} more alert(s) not listed.`);
  if (g.flaps > 0) notes.push(`Flapped ${g.flaps}× (resolved and fired again within its cooldown).`);
  if (g.silence && g.silence.endsAt > now && !resolved) notes.push(silenceNote(g.silence));
  if (g.ackedBy) notes.push(['👀 Acknowledged by ', { user: g.ackedBy }, ` at ${iso(g.ackedAt ?? now)}.`]);
  if (g.escalatedAt && !g.ackedBy) notes.push(`Escalated at ${iso(g.escalatedAt)}: not acknowledged in time.`);
  if (resolved && g.resolvedAt) notes.push(`Resolved at ${iso(g.resolvedAt)} after ${duration(g.resolvedAt - g.firedAt)}.`);
  const byHand = g.view.commonAnnotations[RESOLVED_BY];
  if (resolved && byHand) notes.push(['Resolved by hand by ', { user: byHand }, '.']);

  // While it fires: Acknowledge (Unacknowledge once someone has) and the catalog's actions for it.
  const value = `${g.groupId}:${g.epoch}`;
  const ack: Button = g.ackedBy
    ? { handler: UNACK_HANDLER, label: 'Unacknowledge', value }
    : { handler: ACK_HANDLER, label: 'Acknowledge', value, style: 'primary' };
  // Vigil's own rules only: Alertmanager decides when its alerts resolve.
  const resolve: Button[] = g.source === 'vigil' && ruleNameOf(g.groupKey) !== null
    ? [{ handler: RESOLVE_HANDLER, label: 'Resolve', value, confirm: { title: 'Resolve by hand?', text: 'The rule starts afresh: if its condition still holds, it fires again after its `for`.', confirm: 'Resolve', deny: 'Cancel' } }]
    : [];
  const buttons: Button[] = resolved ? [] : [ack, ...actions, ...resolve];
  return {
    title,
    status: resolved ? 'ok' : (STATUS_OF[g.severity] ?? 'info'),
    summary,
    sections: [
      {
        heading: resolved ? 'Resolved' : 'Firing',
        ...(annotations.description ? { text: annotations.description } : {}),
        fields,
        table: { columns: ['status', 'alert', 'since'], rows, rowStatus: listed.map((a) => (a.status === 'firing' ? 'fail' : 'ok')) },
      },
    ],
    notes,
    buttons,
    links: linksOf(g.view.commonAnnotations, all),
    visibility: 'channel',
  };
}

/** Who silenced the group, until when, why, and what the silence matches. */
function silenceNote(s: NonNullable<AlertGroup['silence']>): RichText {
  const where = s.source === 'alertmanager' ? 'in Alertmanager' : 'in Vigil';
  const why = s.comment ? `: “${s.comment.slice(0, 300)}”` : '';
  return [`🔕 Silenced ${where} by `, { user: s.createdBy }, ` until ${iso(s.endsAt)}${why} (${s.matchers.slice(0, 500)}). No escalation or mentions until it ends.`];
}

/**
 * Runbook, dashboard and the alert's source (Prometheus graph) as link buttons; http(s) only. Each
 * is taken from the common annotations, else from the first alert of the group that has one,
 * firing ones first: a link stays when the alert that carried it resolves while others fire, and after.
 */
function linksOf(common: Record<string, string>, all: AlertInstance[]): NonNullable<Reply['links']> {
  const alerts = [...all.filter((a) => a.status === 'firing'), ...all.filter((a) => a.status !== 'firing')];
  const sets = [common, ...alerts.map((a) => a.annotations)];
  const find = (values: (string | null | undefined)[]) => values.find((u): u is string => typeof u === 'string' && isWebUrl(u));
  const candidates = [
    { label: 'Runbook', url: find(sets.flatMap((s) => [s.runbook_url, s.runbook])) },
    { label: 'Dashboard', url: find(sets.flatMap((s) => [s.dashboard_url, s.dashboard, s.grafana_url])) },
    { label: 'Source', url: find(alerts.map((a) => a.generatorURL)) },
  ];
  return candidates.filter((l): l is { label: string; url: string } => l.url !== undefined);
}

function isWebUrl(u: string): boolean {
  return u.length <= 3000 && URL.canParse(u) && ['http:', 'https:'].includes(new URL(u).protocol);
}

/** Annotations of the first firing alert (or the first at all), for groups without common ones. */
function firstAnnotations(all: AlertInstance[]): Record<string, string> {
  return (all.find((a) => a.status === 'firing') ?? all[0])?.annotations ?? {};
}

const iso = (ms: number) => (Number.isFinite(ms) && ms > 0 ? `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC` : 'unknown');
