import { describe, expect, it } from 'vitest';
import { ALERT_MESSAGE_ACCESS } from '../../../src/alerts/message.ts';
import type { AlertGroup } from '../../../src/alerts/group.ts';
import { createStateStore } from '../../../src/db/state.ts';
import { declareButton, declareHandlers, DECLARE_FORM, DECLARE_HANDLER } from '../../../src/incidents/handlers.ts';
import type { IncidentService } from '../../../src/incidents/service.ts';

const group = (severity: string, status: AlertGroup['status'] = 'firing') => ({ groupId: '0123456789abcdef01234567', epoch: 3, severity, status }) as AlertGroup;

describe('the Declare incident button', () => {
  it('is offered on firing critical and warning groups only, naming the group and its firing', () => {
    expect(declareButton(group('critical'))).toEqual([{ handler: DECLARE_HANDLER, label: 'Declare incident', value: '0123456789abcdef01234567:3', style: 'danger' }]);
    expect(declareButton(group('warning'))).toHaveLength(1);
    expect(declareButton(group('info'))).toEqual([]);
    expect(declareButton(group('critical', 'resolved'))).toEqual([]);
  });

  it('and its form are checked against the rule for acting on alert messages (access.alerts.acknowledge)', () => {
    const handlers = declareHandlers({ state: createStateStore(null), incidents: {} as IncidentService });
    expect(handlers.map((h) => [h.id, h.access])).toEqual([
      [DECLARE_HANDLER, ALERT_MESSAGE_ACCESS],
      [DECLARE_FORM, ALERT_MESSAGE_ACCESS],
    ]);
  });
});
