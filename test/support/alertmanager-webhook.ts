/**
 * An Alertmanager webhook body (version 4) for a one-alert group named `name`, as a test posts it
 * to `/alerts/alertmanager`: the alert's fingerprint is `<name>-fp`, firing alerts carry Go's
 * zero time as `endsAt`, a resolved one ends now.
 */
export function oneAlertWebhook(name: string, status: 'firing' | 'resolved', o: { startsAt?: string; summary?: string } = {}) {
  const labels = { alertname: name, severity: 'critical' };
  const startsAt = o.startsAt ?? new Date(Date.now() - 60_000).toISOString();
  return {
    receiver: 'vigil',
    status,
    alerts: [
      {
        status,
        labels,
        annotations: o.summary === undefined ? {} : { summary: o.summary },
        startsAt,
        endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
        generatorURL: '',
        fingerprint: `${name}-fp`,
      },
    ],
    groupLabels: { alertname: name },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com:9093',
    version: '4',
    groupKey: `{}:{alertname="${name}"}`,
    truncatedAlerts: 0,
  };
}
