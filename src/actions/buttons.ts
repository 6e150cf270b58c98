import type { Button } from '../core/reply.ts';
import type { ActionConfig } from './catalog-config.ts';
import { REQUEST_HANDLER } from './messages.ts';
import { checkValue, paramsSchemaFor } from './params.ts';

/** A button requesting the catalog action that runs `builtin` with `params`, or null when there is none that takes them. */
export type ActionButtonFor = (builtin: string, label: string, params: Record<string, string | number>) => Button | null;

/** A button requesting catalog action `action` with `params`, or null when it is not in the catalog or they do not fit it. */
export type CatalogButtonFor = (action: string, label: string | undefined, params: Record<string, string | number>) => Button | null;

/**
 * Buttons that request a catalog action from another reply (/queue's "Retry failed", an alert's
 * "Silence 4h"): the first action running that built-in whose parameters accept these values.
 * Pressing one asks exactly as /run would (a form for the reason when the action needs one), and
 * approval follows as usual.
 */
export function actionButtonsFrom(catalog: Record<string, ActionConfig>): ActionButtonFor {
  return (builtin, label, params) => {
    const found = builtinActionFor(catalog, builtin, params);
    return found ? requestButton(found.id, found.config, label, params) : null;
  };
}

/** The first catalog action running `builtin` whose parameters accept these values, if any. */
export function builtinActionFor(
  catalog: Record<string, ActionConfig>,
  builtin: string,
  params: Record<string, string | number>,
): { id: string; config: ActionConfig } | null {
  const found = Object.entries(catalog).find(
    ([, a]) =>
      a.runner.kind === 'builtin' &&
      a.runner.builtin === builtin &&
      Object.entries(params).every(([name, value]) => {
        const spec = a.runner.params[name];
        return spec !== undefined && checkValue(name, spec, value).ok;
      }),
  );
  return found ? { id: found[0], config: found[1] } : null;
}

/**
 * Buttons for named catalog actions (an alert's runbook actions): only when every parameter the
 * action needs is given and valid, so a press never ends in "missing parameter".
 */
export function catalogButtonsFrom(catalog: Record<string, ActionConfig>): CatalogButtonFor {
  return (action, label, params) => {
    const config = Object.hasOwn(catalog, action) ? catalog[action] : undefined;
    if (!config || !paramsSchemaFor(config.runner.params).safeParse(params).success) return null;
    return requestButton(action, config, label ?? config.title, params);
  };
}

function requestButton(action: string, config: ActionConfig, label: string, params: Record<string, string | number>): Button {
  return {
    handler: REQUEST_HANDLER,
    label,
    value: JSON.stringify({ action, params }),
    confirm: { title: `Request ${action}?`, text: `${config.title}: ${config.policy ? 'an approver decides in the approvals channel' : 'runs at once'}.`, confirm: 'Request', deny: 'Cancel' },
  };
}
