import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * An alert notification as Vigil keeps it, whatever sent it (Alertmanager or Vigil's own rules):
 * a snapshot of one alert group. Stored as JSON in `vigil.alert_notifications`, so this schema is
 * also how the processor reads back what the intake wrote.
 */
const labelSet = z.record(z.string(), z.string());

export const alertInstanceSchema = z.object({
  fingerprint: z.string().min(1),
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: labelSet,
  /** ISO-8601 (milliseconds). */
  startsAt: z.string(),
  /** Null while firing (Alertmanager sends Go's zero time then). */
  endsAt: z.string().nullable(),
  generatorURL: z.string().nullable(),
});

export const notificationSchema = z.object({
  source: z.enum(['alertmanager', 'vigil']),
  receiver: z.string(),
  groupKey: z.string().min(1),
  status: z.enum(['firing', 'resolved']),
  groupLabels: labelSet,
  commonLabels: labelSet,
  commonAnnotations: labelSet,
  externalURL: z.string().nullable(),
  /** Alerts Alertmanager left out (`max_alerts`): absent alerts then keep the state they had. */
  truncatedAlerts: z.number().int().min(0),
  alerts: z.array(alertInstanceSchema),
});

export type AlertInstance = z.infer<typeof alertInstanceSchema>;
export type Notification = z.infer<typeof notificationSchema>;
export type AlertSource = Notification['source'];

/**
 * The group's id in Vigil's tables and outbox keys: short, free of `:` and quotes, and different
 * for the same groupKey under another receiver or source.
 */
export function groupIdOf(n: Pick<Notification, 'source' | 'receiver' | 'groupKey'>): string {
  return createHash('sha256').update(`${n.source}\n${n.receiver}\n${n.groupKey}`).digest('hex').slice(0, 24);
}

/** Postgres text and jsonb refuse NUL; other control characters only make messages unreadable. */
export function cleanText(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
}
