import { describe, expect, it } from 'vitest';
import { alertmanagerPayloadSchema, fromAlertmanager } from '../../../src/alerts/alertmanager.ts';
import { groupIdOf } from '../../../src/alerts/notification.ts';

const payload = (over: Record<string, unknown> = {}) => ({
  version: '4',
  groupKey: '{}:{alertname="DiskFull"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'vigil',
  groupLabels: { alertname: 'DiskFull' },
  commonLabels: { alertname: 'DiskFull', severity: 'warning' },
  commonAnnotations: {},
  externalURL: 'http://am:9093',
  notification_reason: 'new',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'DiskFull', severity: 'warning', instance: 'db-1' },
      annotations: { summary: 'Disk 95% full' },
      startsAt: '2026-11-26T10:00:00.123456789Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: '',
      fingerprint: 'abc123',
    },
  ],
  ...over,
});

describe('Alertmanager webhook payload', () => {
  it('normalises Go zero times, nanoseconds and empty generator URLs, and accepts unknown keys', () => {
    const n = fromAlertmanager(alertmanagerPayloadSchema.parse(payload()));
    expect(n.alerts[0]).toEqual({
      fingerprint: 'abc123',
      status: 'firing',
      labels: { alertname: 'DiskFull', severity: 'warning', instance: 'db-1' },
      annotations: { summary: 'Disk 95% full' },
      startsAt: '2026-11-26T10:00:00.123Z',
      endsAt: null,
      generatorURL: null,
    });
  });

  it('refuses another version, a missing field or a bad time, naming the problem', () => {
    const wrong = alertmanagerPayloadSchema.safeParse(payload({ version: '3' }));
    expect(wrong.success).toBe(false);
    expect(wrong.error?.issues[0]?.message).toMatch(/version "4"/);
    const { alerts: _dropped, ...noAlerts } = payload();
    expect(alertmanagerPayloadSchema.safeParse(noAlerts).error?.issues[0]?.path).toEqual(['alerts']);
    const badTime = payload({ alerts: [{ ...payload().alerts[0], startsAt: 'yesterday' }] });
    expect(alertmanagerPayloadSchema.safeParse(badTime).error?.issues[0]?.path).toEqual(['alerts', 0, 'startsAt']);
  });

  it('strips NUL and control characters Postgres or Slack would choke on', () => {
    const evil = payload({ commonLabels: { alertname: 'Disk\u0000Full', severity: 'warn\u0007ing' } });
    const n = fromAlertmanager(alertmanagerPayloadSchema.parse(evil));
    expect(n.commonLabels).toEqual({ alertname: 'DiskFull', severity: 'warning' });
  });

  it('gives one group id per (source, receiver, groupKey)', () => {
    const n = fromAlertmanager(alertmanagerPayloadSchema.parse(payload()));
    expect(groupIdOf(n)).toMatch(/^[0-9a-f]{24}$/);
    expect(groupIdOf(n)).toBe(groupIdOf({ ...n }));
    expect(groupIdOf({ ...n, receiver: 'other' })).not.toBe(groupIdOf(n));
  });
});
