import type { FileConfig } from '../config/file.ts';

/**
 * What Vigil does in Slack that a bot scope can gate. `commands` is always on; the rest follow
 * manifests/vigil.yaml: `alerts`, `actions` and `reports` are its sections, `userGroups` is a user group
 * named anywhere who is listed: approvers, requesters, access rules.
 */
export type SlackFeature = 'commands' | 'alerts' | 'actions' | 'incidents' | 'reports' | 'userGroups';

export type FeatureSet = Readonly<Record<SlackFeature, boolean>>;

/** When nobody says which features are on (no `--config`): all of them, so none is missing a scope. */
export const ALL_FEATURES: FeatureSet = { commands: true, alerts: true, actions: true, incidents: true, reports: true, userGroups: true };

/** The features a parsed configuration turns on. */
export function featuresOf(file: Pick<FileConfig, 'alerts' | 'actions' | 'access' | 'incidents' | 'reports'>): FeatureSet {
  const catalog = Object.values(file.actions?.catalog ?? {});
  const accessRules = [...Object.values(file.access.commands), ...(file.access.alerts.acknowledge ? [file.access.alerts.acknowledge] : [])];
  return {
    commands: true,
    alerts: file.alerts !== undefined,
    actions: file.actions !== undefined,
    incidents: file.incidents !== undefined,
    reports: Object.keys(file.reports?.reports ?? {}).length > 0,
    userGroups:
      catalog.some((a) => (a.policy?.groups.length ?? 0) + (a.requesters?.groups.length ?? 0) > 0) ||
      accessRules.some((r) => r.groups.length > 0) ||
      (file.incidents?.invite.userGroups.length ?? 0) > 0,
  };
}

export interface SlackApiUse {
  /** A Web API method Vigil calls, or `(slash commands)` for the app receiving them at all. */
  method: string;
  /** The bot scope it needs; null when Slack asks for none (or a token other than the bot's). */
  scope: string | null;
  feature: SlackFeature;
  where: string;
}

/**
 * Every Slack Web API method Vigil calls, the scope it needs and the feature that calls it. The
 * manifest asks for the scopes of the enabled features and nothing else; a unit test scans src/
 * for Web API calls and fails when one is missing here.
 *
 * Not requested, on purpose: `chat:write.public` (post to public channels without being a member).
 * Vigil posts only to channel ids named in its configuration; with `chat:write` alone the bot must
 * be invited to each (`/invite @vigil`), else Slack answers `not_in_channel`, which the outbox logs
 * as a permanent failure. That one visible step per channel is cheaper than a token that can post
 * in every public channel of the workspace, and private channels (G…) need the invite regardless.
 * Mentions of user groups (`<!subteam^S…>`) in alert messages need no scope.
 */
/**
 * src/slack/outbox/find-posted.ts reads a channel (or a thread) to find a retried post by its key:
 * a public channel needs channels:history, a private one groups:history, and either may be configured.
 */
function lookupUses(feature: SlackFeature): SlackApiUse[] {
  return ['conversations.history', 'conversations.replies'].flatMap((method) =>
    ['channels:history', 'groups:history'].map((scope) => ({ method, scope, feature, where: `src/slack/outbox/find-posted.ts: a retried ${{ alerts: 'alert', actions: 'approval', incidents: 'incident', reports: 'report' }[feature as string] ?? feature} message looked for before posting again` })),
  );
}

export const SLACK_API_USES: readonly SlackApiUse[] = [
  { method: '(slash commands)', scope: 'commands', feature: 'commands', where: 'src/slack/command-listener.ts; answers go to response_url, which needs no scope' },
  { method: 'auth.test', scope: null, feature: 'commands', where: "Bolt, at start (the bot's own ids)" },
  { method: 'chat.postMessage', scope: 'chat:write', feature: 'alerts', where: 'src/alerts/processor.ts, storm.ts through the outbox (src/slack/outbox/deliver.ts)' },
  { method: 'chat.update', scope: 'chat:write', feature: 'alerts', where: 'alert messages kept current (ack, resolve, storm summary) through the outbox' },
  { method: 'chat.postMessage', scope: 'chat:write', feature: 'actions', where: 'src/actions/service.ts: approval messages and their thread replies, through the outbox' },
  { method: 'chat.update', scope: 'chat:write', feature: 'actions', where: 'src/actions/service.ts: the approval message as a request moves on' },
  // A post retried after its answer was lost is first looked for by its key (message metadata).
  { method: 'chat.postMessage', scope: 'chat:write', feature: 'reports', where: 'src/reports/service.ts, schedules.ts: scheduled reports and checklist reminders, through the outbox' },
  { method: 'chat.update', scope: 'chat:write', feature: 'reports', where: "src/reports/checklist-click.ts: a report's checklist as items are ticked" },
  ...lookupUses('alerts'),
  ...lookupUses('actions'),
  // Incidents (src/slack/incident-channels.ts): a public channel each, made and kept by the channel worker.
  { method: 'chat.postMessage', scope: 'chat:write', feature: 'incidents', where: 'src/incidents/channel-sync.ts, relay.ts: opening message, announcement, timeline and write-up, through the outbox' },
  { method: 'conversations.create', scope: 'channels:manage', feature: 'incidents', where: 'src/slack/incident-channels.ts: the incident channel' },
  { method: 'conversations.setPurpose', scope: 'channels:manage', feature: 'incidents', where: "src/slack/incident-channels.ts: Vigil's marker, how a retry recognises the channel it made" },
  { method: 'conversations.list', scope: 'channels:read', feature: 'incidents', where: 'src/slack/incident-channels.ts: a taken name looked up, to tell our channel from someone else\'s' },
  { method: 'conversations.invite', scope: 'channels:write.invites', feature: 'incidents', where: 'src/slack/incident-channels.ts: the declarer, the lead and incidents.invite' },
  { method: 'conversations.setTopic', scope: 'channels:write.topic', feature: 'incidents', where: 'src/slack/incident-channels.ts: severity, lead and status in the topic' },
  { method: 'usergroups.users.list', scope: 'usergroups:read', feature: 'userGroups', where: 'src/incidents/channel-sync.ts: members of incidents.invite.userGroups, invited one by one' },
  ...lookupUses('incidents'),
  ...lookupUses('reports'),
  { method: 'views.open', scope: null, feature: 'actions', where: 'src/slack/interaction-listener.ts: a form (e.g. a silence) after a click' },
  { method: 'usergroups.users.list', scope: 'usergroups:read', feature: 'userGroups', where: 'src/slack/user-groups.ts: members of a user group named by approvers, requesters or access rules' },
  // Socket Mode opens its WebSocket with the app-level token (xapp-…, connections:write): no bot scope.
  { method: 'apps.connections.open', scope: null, feature: 'commands', where: 'Bolt SocketModeReceiver (src/slack/app.ts), with SLACK_APP_TOKEN' },
];

/** The bot scopes the enabled features need, in the table's order, each once. */
export function botScopes(features: FeatureSet): string[] {
  const scopes = SLACK_API_USES.filter((u) => features[u.feature] && u.scope !== null).map((u) => u.scope as string);
  return [...new Set(scopes)];
}
