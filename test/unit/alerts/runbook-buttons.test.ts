import { describe, expect, it } from 'vitest';
import { catalogButtonsFrom } from '../../../src/actions/buttons.ts';
import { runbookButtons } from '../../../src/alerts/runbook-buttons.ts';
import type { AlertGroup } from '../../../src/alerts/group.ts';
import { fileSchema } from '../../../src/config/file.ts';

const catalogYaml = {
  approvalChannel: 'C0APPROVALS',
  catalog: {
    'restart-api': { title: 'Restart the API', risk: 'high', exec: ['systemctl', 'restart', '{service}'], params: { service: { enum: ['api', 'worker'] } }, approvers: { users: ['U0BOSS'] } },
  },
};

function parse(alertActions: unknown) {
  return fileSchema.safeParse({ alerts: { channels: { default: 'C0ALERTS' }, actions: alertActions }, actions: catalogYaml });
}

function group(labels: Record<string, string>): AlertGroup {
  return { view: { commonLabels: labels } } as unknown as AlertGroup; // only the labels are read
}

describe('alert runbook actions', () => {
  it('refuses at load an action the catalog does not define', () => {
    const bad = parse({ ApiDown: [{ action: 'restart-apii', params: { service: 'api' } }] });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain('no action restart-apii in actions.catalog');
    expect(parse({ ApiDown: [{ action: 'restart-api', params: { service: 'api' } }] }).success).toBe(true);
  });

  it('takes $labels values from the alert, and offers no button when the label is missing or refused', () => {
    const parsed = parse({ ApiDown: [{ action: 'restart-api', params: { service: '$labels.service' } }] });
    if (!parsed.success || !parsed.data.alerts || !parsed.data.actions) throw new Error('config should parse');
    const buttonsFor = runbookButtons(parsed.data.alerts.actions, catalogButtonsFrom(parsed.data.actions.catalog));

    const [button] = buttonsFor(group({ alertname: 'ApiDown', service: 'worker' }));
    expect(button?.label).toBe('Restart the API');
    expect(JSON.parse(button?.value ?? '{}')).toEqual({ action: 'restart-api', params: { service: 'worker' } });
    expect(buttonsFor(group({ alertname: 'ApiDown' }))).toEqual([]);
    expect(buttonsFor(group({ alertname: 'ApiDown', service: 'db; rm -rf /' }))).toEqual([]);
    expect(buttonsFor(group({ alertname: 'OtherAlert', service: 'api' }))).toEqual([]);
  });
});
