import type { Button } from '../core/reply.ts';
import type { ActionConfig } from './catalog-config.ts';
import { REQUEST_HANDLER } from './messages.ts';
import { checkValue } from './params.ts';

/** A button requesting the catalog action that runs `builtin` with `params`, or null when there is none that takes them. */
export type ActionButtonFor = (builtin: string, label: string, params: Record<string, string | number>) => Button | null;

/**
 * Buttons that request a catalog action from another reply (/queue's "Retry failed", an alert's
 * "Silence 4h"): the first action running that built-in whose parameters accept these values.
 * Pressing one asks exactly as /run would (a form for the reason when the action needs one), and
 * approval follows as usual.
 */
export function actionButtonsFrom(catalog: Record<string, ActionConfig>): ActionButtonFor {
  return (builtin, label, params) => {
    const found = Object.entries(catalog).find(
      ([, a]) =>
        a.runner.kind === 'builtin' &&
        a.runner.builtin === builtin &&
        Object.entries(params).every(([name, value]) => {
          const spec = a.runner.params[name];
          return spec !== undefined && checkValue(name, spec, value).ok;
        }),
    );
    if (!found) return null;
    const [action, config] = found;
    return {
      handler: REQUEST_HANDLER,
      label,
      value: JSON.stringify({ action, params }),
      confirm: { title: `Request ${action}?`, text: `${config.title}: ${config.policy ? 'an approver decides in the approvals channel' : 'runs at once'}.`, confirm: 'Request', deny: 'Cancel' },
    };
  };
}
