import { builtinActionFor } from '../actions/buttons.ts';
import type { ActionConfig } from '../actions/catalog-config.ts';
import { requestFormWithChoice, type VariantOption } from '../actions/request-form.ts';
import { AppError, describeError } from '../core/errors.ts';
import type { InteractionHandler } from '../core/interactions.ts';
import { formatMatchers, MAX_MATCHERS } from '../core/label-matchers.ts';
import type { RichText } from '../core/reply.ts';
import type { StateStore } from '../db/state.ts';
import type { AlertmanagerReader } from './alertmanager-api.ts';
import { alertLabel, type AlertGroup } from './group.ts';
import type { AlertInstance } from './notification.ts';
import { ALERT_MESSAGE_ACCESS } from './message.ts';
import { loadGroup } from './store.ts';

/** The interaction handler behind Silence 1h / 4h / 24h on a group's message. */
export const SILENCE_HANDLER = 'alerts.silence';

/** Common labels that say where a group runs: a silence keeps to them, so staging never hides prod. */
const WHERE_LABELS = ['env', 'cluster', 'namespace', 'service', 'instance'];
// One-alert choices offered besides the whole group (Slack lists up to 100; a form should not).
const MAX_ALERT_CHOICES = 10;

const VALUE = /^([0-9a-f]{24}):(\d{1,9}):(\d{1,3}[mhd])$/;

export const silenceButtonValue = (g: Pick<AlertGroup, 'groupId' | 'epoch'>, duration: string) => `${g.groupId}:${g.epoch}:${duration}`;

/**
 * The labels a silence from a group's message matches: every label the group is grouped by
 * (Alertmanager's groupLabels) plus the common labels saying where it runs. alertname first.
 */
export function silenceScope(g: Pick<AlertGroup, 'view'>): Record<string, string> {
  const { groupLabels, commonLabels } = g.view;
  const scope: Record<string, string> = {};
  if (commonLabels.alertname !== undefined) scope.alertname = commonLabels.alertname;
  for (const [k, v] of Object.entries(groupLabels)) scope[k] = v;
  for (const k of WHERE_LABELS) if (commonLabels[k] !== undefined) scope[k] = commonLabels[k];
  return scope;
}

/** The `matchers` parameter for a scope: everything but alertname, its own parameter. */
function matchersParam(scope: Record<string, string>): Record<string, string> {
  const rest = Object.fromEntries(Object.entries(scope).filter(([k]) => k !== 'alertname'));
  return Object.keys(rest).length > 0 ? { matchers: formatMatchers(rest) } : {};
}

export interface SilenceRequestDeps {
  state: StateStore;
  catalog: Record<string, ActionConfig>;
  /** Counts what a silence would match now; null without ALERTMANAGER_URL. */
  alertmanager: AlertmanagerReader | null;
}

/**
 * Silence 1h / 4h / 24h: a form showing the exact matchers — the group's scope — and how many
 * alerts they match now, offering to narrow to one alert, and asking why. Its submission requests
 * the catalog's silence action like /run would (approval, audit), with the chosen matchers.
 */
export function silenceHandler(deps: SilenceRequestDeps): InteractionHandler {
  return {
    id: SILENCE_HANDLER,
    access: ALERT_MESSAGE_ACCESS,
    async handle(interaction) {
      const match = interaction.kind === 'button' ? VALUE.exec(interaction.value) : null;
      if (!match) throw new AppError('stale', 'This button does not name an alert group to silence.');
      const [, groupId = '', epochText = '0', duration = ''] = match;
      const state = await deps.state.ready();
      if (state.kind !== 'ready') throw new AppError('dependency_unavailable', `Cannot look up the alert group now: ${state.why}.`);
      const g = await loadGroup(state.pool, groupId);
      if (!g) throw new AppError('stale', 'Vigil no longer knows this alert group.');
      if (g.epoch !== Number(epochText) || g.status !== 'firing') throw new AppError('stale', 'This alert group is no longer firing as this message showed it; nothing to silence.');
      const alertname = g.view.commonLabels.alertname;
      const action = alertname === undefined ? null : builtinActionFor(deps.catalog, 'alertmanager.silence', { alertname, duration });
      if (!action || alertname === undefined) throw new AppError('stale', 'No action in the catalog can silence this group for that long.');

      const scope = silenceScope(g);
      const label = (a: AlertInstance) => alertLabel(a, g.view.commonLabels);
      const firing = Object.values(g.view.alerts)
        .filter((a) => a.status === 'firing')
        .sort((a, b) => label(a).localeCompare(label(b)));
      const count = await countMatching(deps.alertmanager, g, scope, firing.length);
      const options: VariantOption[] = [{ value: 'group', label: `This group: ${count.short}`, params: matchersParam(scope) }];
      for (const [i, a] of firing.slice(0, MAX_ALERT_CHOICES).entries()) {
        const own = { ...scope, ...Object.fromEntries(Object.entries(a.labels).filter(([k]) => k !== 'alertname')) };
        if (Object.keys(own).length > MAX_MATCHERS + 1 || firing.length === 1) continue;
        options.push({ value: `a${i}`, label: `Only ${label(a)}`, params: matchersParam(own) });
      }
      const approval = action.config.policy ? 'An approver decides in the approvals channel.' : 'It runs as soon as you ask.';
      const intro: RichText = `Silence for ${duration} in ${g.source === 'alertmanager' ? 'Alertmanager' : 'Vigil (its own rule alert)'} where ${formatMatchers(scope)}. ${count.long} ${approval}`;
      return {
        form: requestFormWithChoice({
          action: action.id,
          params: { alertname, duration },
          title: `Silence ${duration}`,
          intro,
          choice: { label: 'What to silence', options },
          keptWithSilence: true,
        }),
      };
    },
  };
}

/** How many alerts the scope matches now: Alertmanager's count, or the group's own for Vigil's rules. */
async function countMatching(am: AlertmanagerReader | null, g: AlertGroup, scope: Record<string, string>, firing: number): Promise<{ short: string; long: string }> {
  const plural = (n: number) => `${n} alert${n === 1 ? '' : 's'}`;
  if (g.source !== 'alertmanager' || !am) return { short: `${plural(firing)} firing`, long: `It covers the ${plural(firing)} of this group firing now.` };
  try {
    const n = (await am.matching(scope)).length;
    return { short: `${plural(n)} now`, long: `Alertmanager has ${plural(n)} matching now.` };
  } catch (err) {
    return { short: `${plural(firing)} firing`, long: `Alertmanager could not be asked how many alerts match (${describeError(err).slice(0, 200)}).` };
  }
}
