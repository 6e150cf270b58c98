import { actionButtonsFrom, builtinActionFor, catalogButtonsFrom, type CatalogButtonFor } from '../actions/buttons.ts';
import type { ActionConfig } from '../actions/catalog-config.ts';
import type { Button } from '../core/reply.ts';
import type { AlertActionConfig } from '../config/file.ts';
import type { AlertGroup } from './group.ts';
import { SILENCE_HANDLER, silenceButtonValue } from './silence-request.ts';

// Silences offered on a firing group's message (those the catalog's silence action allows).
const SILENCE_FOR = ['1h', '4h', '24h'];

/** `$labels.<name>` in a parameter value takes that label of the alert group. */
const LABEL_REF = /^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$/;

/**
 * The alert's runbook actions (`alerts.actions` by alert name) as request buttons on its message.
 * Parameter values are fixed in the config or taken from the group's common labels; an action
 * whose label is missing, or whose values the action refuses, gets no button rather than one
 * that fails when pressed. Requests go through approval like any other.
 */
export function runbookButtons(byAlert: Record<string, readonly AlertActionConfig[]>, button: CatalogButtonFor): (g: AlertGroup) => Button[] {
  return (g) => {
    const alertname = g.view.commonLabels.alertname;
    const configured = alertname !== undefined && Object.hasOwn(byAlert, alertname) ? (byAlert[alertname] ?? []) : [];
    const buttons: Button[] = [];
    for (const a of configured) {
      const params = resolveParams(a.params, g.view.commonLabels);
      const b = params ? button(a.action, a.label, params) : null;
      if (b) buttons.push(b);
    }
    return buttons;
  };
}

function resolveParams(params: Record<string, string | number>, labels: Record<string, string>): Record<string, string | number> | null {
  const out: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(params)) {
    const ref = typeof value === 'string' ? LABEL_REF.exec(value) : null;
    if (!ref) {
      out[name] = value;
      continue;
    }
    const label = labels[ref[1] as string];
    if (label === undefined) return null;
    out[name] = label;
  }
  return out;
}

/**
 * The buttons on a firing group's message besides Acknowledge: the alert's own runbook actions
 * first, then Unsilence while a silence covers it (when the catalog can expire silences), or else
 * Silence 1h / 4h / 24h (when the catalog has a silence action taking them). A silence of
 * Alertmanager's group goes to Alertmanager; one of Vigil's own rule alert is kept by Vigil.
 */
export function alertGroupButtons(byAlert: Record<string, readonly AlertActionConfig[]>, catalog: Record<string, ActionConfig>): (g: AlertGroup, now: number) => Button[] {
  const actionButton = actionButtonsFrom(catalog);
  const runbookFor = runbookButtons(byAlert, catalogButtonsFrom(catalog));
  return (g, now) => {
    const runbook = runbookFor(g);
    const alertname = g.view.commonLabels.alertname;
    if (!alertname) return runbook;
    const silence = g.silence !== null && g.silence.endsAt > now ? g.silence : null;
    if (silence) {
      const unsilence = silence.ids.slice(0, 1).flatMap((id) => actionButton('alertmanager.expireSilence', 'Unsilence', { id }) ?? []);
      return [...runbook, ...unsilence];
    }
    const silences = SILENCE_FOR.filter((d) => builtinActionFor(catalog, 'alertmanager.silence', { alertname, duration: d }) !== null);
    return [...runbook, ...silences.map((d): Button => ({ handler: SILENCE_HANDLER, label: `Silence ${d}`, value: silenceButtonValue(g, d) }))];
  };
}
