import type { Redis } from 'ioredis';
import type { AlertRule } from '../../config/file.ts';
import type { Logger } from '../../log.ts';
import type { HealthService } from '../../probes/health.ts';
import { createSchedule, type Schedule } from '../../schedules/schedule.ts';
import type { Notification } from '../notification.ts';
import { evaluateRules } from './evaluate.ts';
import { loadRuleState, saveRuleState, takeForgottenRules } from './rule-state-store.ts';

export interface RuleScheduleOptions {
  rules: AlertRule[];
  /** node-cron expression (`alerts.evaluate`). */
  cron: string;
  health: HealthService;
  /** A fail-fast client (connectProbeRedis): the schedule's leases and the rules' state. */
  redis: Redis;
  /** Vigil's own prefix (`state.queuePrefix`). */
  keyPrefix: string;
  /** Hands a notification to the alert pipeline (stored in Postgres, like Alertmanager's). */
  store: (n: Notification) => Promise<void>;
  log: Logger;
  /** Whether this replica may take ticks (a replica that cannot post leaves them to one that can). */
  eligible?: () => Promise<boolean>;
  now?: () => number;
}

export const RULE_SCHEDULE_NAME = 'alert-rules';

/**
 * Vigil's own alert rules, evaluated on one replica per tick: probe, compare with the previous
 * evaluation's state, hand the changed groups to the pipeline, keep the new state.
 */
export function createRuleSchedule(opts: RuleScheduleOptions): Schedule {
  const { rules, health, redis, keyPrefix, log } = opts;
  const now = opts.now ?? Date.now;
  return createSchedule({
    name: RULE_SCHEDULE_NAME,
    cron: opts.cron,
    redis,
    keyPrefix,
    log,
    ...(opts.eligible ? { eligible: opts.eligible } : {}),
    async run() {
      const prev = await loadRuleState(redis, keyPrefix, log);
      for (const name of await takeForgottenRules(redis, keyPrefix)) delete prev[name];
      // No rules: nothing to measure, but alerts of rules since removed from the config still resolve.
      if (rules.length === 0 && Object.keys(prev).length === 0) return;
      const checks = rules.length === 0 ? [] : (await health.check()).checks;
      const { next, notifications } = evaluateRules(rules, checks, prev, now());
      // Stored before the state is saved: a crash in between sends a notification again (the
      // pipeline sees the same snapshot and changes nothing), where the other order would lose it.
      for (const n of notifications) {
        await opts.store(n);
        const firing = n.alerts.filter((a) => a.status === 'firing').map((a) => a.labels.target);
        log.info({ rule: n.groupLabels.alertname, status: n.status, firing }, 'alert rules: group changed');
      }
      await saveRuleState(redis, keyPrefix, next);
    },
  });
}
