import { createHash } from 'node:crypto';
import { z } from 'zod';
import { cleanText, type AlertInstance, type Notification } from './notification.ts';

/**
 * Alertmanager's webhook payload, version "4". Unknown keys are accepted (newer releases add
 * `notification_reason`, `routeLabels`, …) and ignored; what Vigil reads is checked strictly.
 */
const text = z.string().max(64 * 1024).transform(cleanText);
const labels = z.record(z.string().max(1024).transform(cleanText), text);

const time = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an RFC 3339 time')
  // Go's zero time is Alertmanager's "not set" (endsAt of a firing alert).
  .transform((s) => (s.startsWith('0001-01-01') ? null : new Date(s).toISOString()));

const alert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels,
  annotations: labels.default({}),
  startsAt: time,
  endsAt: time.optional(),
  generatorURL: z.string().max(4096).optional(),
  fingerprint: z.string().max(128).optional(),
});

export const alertmanagerPayloadSchema = z.object({
  version: z.literal('4', { error: 'only Alertmanager webhook version "4" is understood' }),
  groupKey: z.string().min(1).max(4096),
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(1024),
  groupLabels: labels.default({}),
  commonLabels: labels.default({}),
  commonAnnotations: labels.default({}),
  externalURL: z.string().max(4096).optional(),
  alerts: z.array(alert).max(10_000),
});

export type AlertmanagerPayload = z.infer<typeof alertmanagerPayloadSchema>;

/** What Vigil keeps of an Alertmanager notification. */
export function fromAlertmanager(p: AlertmanagerPayload): Notification {
  return {
    source: 'alertmanager',
    receiver: cleanText(p.receiver),
    groupKey: cleanText(p.groupKey),
    status: p.status,
    groupLabels: p.groupLabels,
    commonLabels: p.commonLabels,
    commonAnnotations: p.commonAnnotations,
    externalURL: p.externalURL || null,
    truncatedAlerts: p.truncatedAlerts,
    alerts: p.alerts.map(
      (a): AlertInstance => ({
        // Alertmanager always sends one; a hand-made payload without gets one from its labels.
        fingerprint: a.fingerprint ? cleanText(a.fingerprint) : fingerprintOf(a.labels),
        status: a.status,
        labels: a.labels,
        annotations: a.annotations,
        startsAt: a.startsAt ?? new Date(0).toISOString(),
        endsAt: a.status === 'resolved' ? (a.endsAt ?? null) : null,
        generatorURL: a.generatorURL ? cleanText(a.generatorURL) : null,
      }),
    ),
  };
}

/** A stable id for a label set: the same labels give the same alert. */
export function fingerprintOf(labelSet: Record<string, string>): string {
  const canonical = Object.keys(labelSet)
    .sort()
    .map((k) => `${k}\u0001${labelSet[k]}`)
    .join('\u0002');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
