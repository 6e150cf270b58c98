import type pg from 'pg';
import type { Redis } from 'ioredis';
import { debounce } from '../core/debounce.ts';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../log.ts';
import { createSchedule, type Schedule } from '../schedules/schedule.ts';
import type { Outbox } from '../slack/outbox/types.ts';
import { checkDeadman } from './deadman.ts';
import { escalateOverdue } from './escalation.ts';
import type { AlertProcessor } from './processor.ts';
import type { AlertsConfig } from './routing.ts';
import { refreshStorms } from './storm.ts';
import { pruneNotifications } from './store.ts';
import type { AlertmanagerReader } from './alertmanager-api.ts';
import { syncSilences } from './silence-sync.ts';

// Silences, escalation, the dead-man's switch and storm summaries are checked this often (one replica per tick).
const HOUSEKEEPING_CRON = '*/5 * * * * *';
// A storm's change is acted on this soon rather than at the next tick.
const NUDGE_MS = 200;

export interface HousekeepingDeps {
  pool: pg.Pool;
  processor: AlertProcessor;
  outbox: Outbox | null;
  cfg: AlertsConfig;
  /** The schedule's lease (one replica per tick). */
  redis: Redis;
  keyPrefix: string;
  log: Logger;
  /** Alertmanager's silences, shown on the messages they cover (null without ALERTMANAGER_URL). */
  alertmanager: AlertmanagerReader | null;
  /** Whether this replica may take ticks (a replica that cannot post leaves them to one that can). */
  eligible?: () => Promise<boolean>;
}

export interface Housekeeping {
  schedule: Schedule;
  /** Run soon (debounced), e.g. when a storm starts; never once stopped. */
  nudge(): void;
}

/** The alert pipeline's timed checks, leased so N replicas run each tick once. */
export function createHousekeeping(deps: HousekeepingDeps): Housekeeping {
  let stopped = false;
  const schedule = createSchedule({
    name: 'alerts-housekeeping',
    cron: HOUSEKEEPING_CRON,
    redis: deps.redis,
    keyPrefix: deps.keyPrefix,
    log: deps.log,
    ...(deps.eligible ? { eligible: deps.eligible } : {}),
    run: () => housekeep(deps, Date.now()),
  });
  const nudge = debounce(() => void (stopped ? undefined : schedule.runNow().catch(() => undefined)), NUDGE_MS);
  return {
    schedule: {
      ...schedule,
      async stop() {
        stopped = true;
        await schedule.stop();
      },
    },
    nudge,
  };
}

/** One tick: each part runs even when another fails (it is logged and tried next tick). */
export async function housekeep(deps: Pick<HousekeepingDeps, 'pool' | 'processor' | 'outbox' | 'cfg' | 'log' | 'alertmanager'>, now: number): Promise<void> {
  const { pool, processor, outbox, cfg, alertmanager } = deps;
  const { escalation, deadman } = cfg;
  const parts: Array<[string, () => Promise<unknown>]> = [];
  // Before escalation: a silence made a moment ago keeps its group from being escalated.
  parts.push(['silences', () => syncSilences(pool, processor, alertmanager, now)]);
  if (escalation) parts.push(['escalation', () => escalateOverdue(pool, processor, outbox, escalation, now)]);
  if (deadman) parts.push(['dead-man switch', async () => (await checkDeadman(pool, deadman, now)) && processor.kick()]);
  if (outbox) parts.push(['storm summaries', () => refreshStorms(pool, outbox, cfg.storm, now)]);
  parts.push(['notification pruning', () => pruneNotifications(pool, cfg.keepNotificationsDays, now)]);
  for (const [what, part] of parts) {
    await part().catch((err: unknown) => deps.log.warn({ err: describeError(err) }, `alerts: ${what} check failed; trying again next tick`));
  }
}
