import type pg from 'pg';
import { z } from 'zod';
import { STATE_SCHEMA } from '../db/migrate.ts';
import type { Queryable } from '../db/queryable.ts';
import { inTransaction } from '../db/transaction.ts';
import { fingerprintOf } from './alertmanager.ts';
import type { Notification } from './notification.ts';
import type { AlertsConfig } from './routing.ts';
import { storeNotification } from './store.ts';

const HEARTBEATS = `${STATE_SCHEMA}.alert_heartbeats`;
export const DEADMAN_ALERT = 'DeadMansSwitch';

type DeadmanConfig = NonNullable<AlertsConfig['deadman']>;

/**
 * The always-firing alert is a heartbeat, not something to show: take its alerts out of the
 * notification. `rest` is what remains to store (null when nothing does).
 */
export function splitHeartbeat(n: Notification, alertname: string): { heartbeat: boolean; rest: Notification | null } {
  const beats = n.alerts.filter((a) => a.labels.alertname === alertname && a.status === 'firing');
  if (beats.length === 0) return { heartbeat: false, rest: n };
  const others = n.alerts.filter((a) => a.labels.alertname !== alertname);
  return { heartbeat: true, rest: others.length > 0 ? { ...n, alerts: others } : null };
}

export async function recordHeartbeat(db: Queryable, alertname: string, now: number): Promise<void> {
  await db.query(
    `INSERT INTO ${HEARTBEATS} (alertname, last_seen_at) VALUES ($1, $2)
     ON CONFLICT (alertname) DO UPDATE SET last_seen_at = GREATEST(${HEARTBEATS}.last_seen_at, EXCLUDED.last_seen_at)`,
    [alertname, new Date(now)],
  );
}

const row = z.object({ last_seen_at: z.date(), raised_at: z.date().nullable() });

/**
 * Housekeeping: raise Vigil's own critical alert when the heartbeat has been quiet longer than
 * its window, and resolve it when the heartbeat is back. The clock starts at the first check, so
 * a fresh install waits a whole window before deciding anything. Returns whether a notification
 * was stored (for the processor to apply).
 */
export async function checkDeadman(pool: pg.Pool, cfg: DeadmanConfig, now: number): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    await client.query(`INSERT INTO ${HEARTBEATS} (alertname, last_seen_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [cfg.alertname, new Date(now)]);
    const { rows } = await client.query(`SELECT last_seen_at, raised_at FROM ${HEARTBEATS} WHERE alertname = $1 FOR UPDATE`, [cfg.alertname]);
    const beat = row.parse(rows[0]);
    const windowMs = cfg.windowMinutes * 60_000;
    const quiet = now - beat.last_seen_at.getTime() > windowMs;
    if (quiet && beat.raised_at === null) {
      await storeNotification(client, deadmanNotification(cfg, 'firing', beat.last_seen_at.getTime() + windowMs, now));
      await client.query(`UPDATE ${HEARTBEATS} SET raised_at = $2 WHERE alertname = $1`, [cfg.alertname, new Date(now)]);
      return true;
    }
    if (!quiet && beat.raised_at !== null) {
      await storeNotification(client, deadmanNotification(cfg, 'resolved', beat.raised_at.getTime(), now));
      await client.query(`UPDATE ${HEARTBEATS} SET raised_at = NULL WHERE alertname = $1`, [cfg.alertname]);
      return true;
    }
    return false;
  });
}

function deadmanNotification(cfg: DeadmanConfig, status: 'firing' | 'resolved', startsAt: number, now: number): Notification {
  const labels = { alertname: DEADMAN_ALERT, severity: 'critical', heartbeat: cfg.alertname };
  return {
    source: 'vigil',
    receiver: 'vigil-deadman',
    groupKey: `vigil-deadman:${cfg.alertname}`,
    status,
    groupLabels: { alertname: DEADMAN_ALERT },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: null,
    truncatedAlerts: 0,
    alerts: [
      {
        fingerprint: fingerprintOf(labels),
        status,
        labels,
        annotations: {
          summary: `No ${cfg.alertname} alert from Alertmanager for over ${cfg.windowMinutes} min`,
          description: `Alertmanager sends the always-firing ${cfg.alertname} alert while the whole path works (Prometheus, Alertmanager, the webhook to Vigil). While it is missing, other alerts may not reach Slack either: check Prometheus, Alertmanager and their route to Vigil.`,
        },
        startsAt: new Date(startsAt).toISOString(),
        endsAt: status === 'resolved' ? new Date(now).toISOString() : null,
        generatorURL: null,
      },
    ],
  };
}
