import type { Redis } from 'ioredis';
import type { Notification } from '../../alerts/notification.ts';
import type { Logger } from '../../log.ts';
import { createSchedule, type Schedule } from '../../schedules/schedule.ts';
import { evaluateBurnAlerts } from './burn-evaluate.ts';
import { loadBurnState, saveBurnState } from './burn-state-store.ts';
import type { PrometheusClient } from './prometheus-client.ts';
import type { SloSpec } from './slo-config.ts';
import { readSloStatuses } from './slo-status.ts';

export interface BurnScheduleOptions {
  slos: readonly SloSpec[];
  prometheus: PrometheusClient;
  /** node-cron expression (`alerts.evaluate`, as Vigil's own rules). */
  cron: string;
  /** A fail-fast client: the schedule's leases and the alerts' state. */
  redis: Redis;
  keyPrefix: string;
  /** Hands a notification to the alert pipeline (stored in Postgres, applied by the processor). */
  store: (n: Notification) => Promise<void>;
  log: Logger;
  now?: () => number;
}

export const BURN_SCHEDULE_NAME = 'slo-burn-alerts';

/**
 * The burn-rate alerts, evaluated on one replica per tick: read every SLO from Prometheus, compare
 * with the previous evaluation, hand the changed groups to the alert pipeline, keep the new state.
 */
export function createBurnSchedule(opts: BurnScheduleOptions): Schedule {
  const { slos, redis, keyPrefix, log } = opts;
  const now = opts.now ?? Date.now;
  // A refused query (a mistake in the config) is logged when it first appears, not at every tick.
  let refusedBefore = new Set<string>();
  return createSchedule({
    name: BURN_SCHEDULE_NAME,
    cron: opts.cron,
    redis,
    keyPrefix,
    log,
    async run() {
      const prev = await loadBurnState(redis, keyPrefix, log);
      // No SLOs left: nothing to read, but burn alerts of removed SLOs still resolve.
      if (slos.length === 0 && Object.keys(prev.groups).length === 0) return;
      const statuses = slos.length === 0 ? [] : await readSloStatuses({ slos, prometheus: opts.prometheus, now, budget: false });
      const { next, notifications, prometheus } = evaluateBurnAlerts(slos, statuses, prev, now());
      // Said once per outage across replicas (the state remembers), not once per tick.
      if (prometheus?.change === 'down') log.warn({ why: prometheus.error }, 'slo burn alerts: Prometheus does not answer; alerts keep their state until it does');
      if (prometheus?.change === 'up') log.info({ downMs: prometheus.sinceMs }, 'slo burn alerts: Prometheus answers again');
      const refused = new Set(statuses.flatMap((s) => (s.error && !s.unreachable ? [`${s.name}: ${s.error}`] : [])));
      for (const why of refused) if (!refusedBefore.has(why)) log.warn({ why }, 'slo burn alerts: cannot read an SLO; its alerts keep their state');
      refusedBefore = refused;
      // Stored before the state is saved: a crash in between resends a snapshot (which changes nothing), never loses one.
      for (const n of notifications) {
        await opts.store(n);
        log.info({ group: n.groupKey, status: n.status }, 'slo burn alerts: group changed');
      }
      await saveBurnState(redis, keyPrefix, next);
    },
  });
}
