import { createTask, validateDetailed, type Logger as CronLogger, type ScheduledTask } from 'node-cron';
import type { Redis } from 'ioredis';
import { AppError, describeError, scrubSecrets } from '../core/errors.ts';
import type { Runnable } from '../core/runnable.ts';
import { elapsedMs, withTimeout } from '../core/timeout.ts';
import type { Logger } from '../log.ts';
import { raiseMark } from '../db/high-water-mark.ts';
import { createLease } from './lease.ts';

export type RunResult = 'ran' | 'skipped_lease' | 'skipped_running' | 'skipped_ineligible';

export interface ScheduleOptions {
  /** Letters, digits, `_`, `-`, `.`: part of the Redis keys, so the same on every replica. */
  name: string;
  /** node-cron expression, 5 fields or 6 with seconds first (`*\/30 * * * * *`). */
  cron: string;
  /** Timezone the expression is read in (IANA name); the process's own when absent. Every replica must read it the same way. */
  timezone?: string;
  /** A fail-fast client (connectProbeRedis): a tick must not wait for Redis to come back. */
  redis: Redis;
  /** Vigil's own prefix, e.g. `vigil` → keys `vigil:schedule:<name>` (run lease) and `vigil:schedule:<name>:tick` (last tick claimed). */
  keyPrefix: string;
  /**
   * TTL of the run lease (default 30 s), renewed every third of it while a run goes on: how long a
   * replica that died mid-run keeps the others from starting the schedule. Not a limit on run length.
   */
  leaseMs?: number;
  log: Logger;
  /** `at` is the tick's scheduled time (the same on every replica), or the time of a runNow(). */
  run: (tick: { at: Date }) => Promise<void>;
  /**
   * Asked before a tick is claimed: false leaves the tick to the other replicas (one that cannot
   * show the result, e.g. without Slack). Claiming and then skipping would starve them.
   */
  eligible?: () => Promise<boolean>;
  /** Also run once when this replica starts (every replica does, one at a time): catch-up work that may repeat. */
  runOnStart?: boolean;
}

export interface ScheduleStats {
  /** Runs this replica started (including those that threw). */
  ran: number;
  failed: number;
  /** Ticks or runNow() calls another replica had (tick already claimed, or a run under way there). */
  skippedLease: number;
  /** Ticks or runNow() calls that came while this replica's previous run was still going. */
  skippedRunning: number;
  /** Ticks skipped because Redis did not answer. */
  skippedRedis: number;
}

export interface Schedule extends Runnable {
  /**
   * Run now, outside the cron (a command, a test): not tied to a tick, but still never alongside
   * another run of this schedule on any replica. A run that throws still resolves 'ran' (the error
   * is logged and counted); a Redis that does not answer rejects with `dependency_unavailable`.
   */
  runNow(): Promise<RunResult>;
  stats(): ScheduleStats;
}

export const DEFAULT_LEASE_MS = 30_000;
const MIN_LEASE_MS = 1_000;
/**
 * How long the last claimed tick is remembered. Any replica ticking meanwhile moves it forward;
 * it only expires when the schedule stopped running everywhere for a day.
 */
const TICK_CLAIM_TTL_MS = 24 * 3600_000;
// A tick gives up on Redis after this; the queue connection would otherwise wait for reconnects.
const REDIS_TIMEOUT_MS = 2_000;
// stop() waits this long for a run under way before giving up on it (the run goes on, unawaited).
const STOP_GRACE_MS = 10_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * A cron job that N replicas run once per tick.
 *
 * Why two keys, and why the tick's mark is never released: a single lease released when the run
 * ends lets a replica whose clock is a little behind (or whose timer fired late) take the freed
 * lease and run the same tick again. So ticks are claimed by their scheduled second (the same
 * instant on every replica, from node-cron's context) against a high-water mark that only moves
 * forward: whoever raises it first runs the tick, and a replica arriving at that tick (or an
 * earlier one) later finds the mark at or past it and skips. The second key, the run lease (`<prefix>:schedule:<name>`, token-checked,
 * renewed while the run goes on, released when it ends), keeps a run on one replica from overlapping
 * a slow run still going on another; within a replica an in-process guard does the same. Both kinds
 * of overlap skip the tick rather than queue it.
 */
export function createSchedule(opts: ScheduleOptions): Schedule {
  const { name, redis, keyPrefix } = opts;
  if (!NAME.test(name)) throw new Error(`schedule "${name}": name must be letters, digits, '_', '-' or '.'`);
  const checked = validateDetailed(opts.cron);
  if (!checked.valid) {
    const why = checked.errors.map((e) => e.message).join('; ');
    throw new Error(`schedule "${name}": invalid cron expression "${opts.cron}": ${why}`);
  }
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  if (!Number.isInteger(leaseMs) || leaseMs < MIN_LEASE_MS) throw new Error(`schedule "${name}": leaseMs must be an integer >= ${MIN_LEASE_MS} (got ${leaseMs})`);

  const log = opts.log.child({ schedule: name });
  const runKey = `${keyPrefix}:schedule:${name}`;
  const runLease = createLease(redis, runKey);
  const stats: ScheduleStats = { ran: 0, failed: 0, skippedLease: 0, skippedRunning: 0, skippedRedis: 0 };

  let task: ScheduledTask | null = null;
  let inFlight: Promise<RunResult> | null = null;
  let overlapLogged = false;

  // One warning per Redis outage, not one per tick; one line when Redis answers again.
  let redisDown = false;
  let skippedWhileDown = 0;
  const redisFailed = (err: unknown, what: string) => {
    if (!redisDown) log.warn({ err: describeError(err) }, `schedule ${name}: redis unavailable (${what}); ticks are skipped until it answers`);
    redisDown = true;
  };
  const redisAnswered = () => {
    if (redisDown) log.info({ skippedTicks: skippedWhileDown }, `schedule ${name}: redis answers again`);
    redisDown = false;
    skippedWhileDown = 0;
  };
  const redisCall = <T>(work: Promise<T>, what: string) => withTimeout(work, REDIS_TIMEOUT_MS, `redis (${what})`);

  async function attemptUnguarded(at: Date, claimTick: boolean): Promise<RunResult> {
    if (opts.eligible && !(await opts.eligible())) return 'skipped_ineligible';
    if (claimTick) {
      const claimed = await redisCall(raiseMark(redis, `${runKey}:tick`, Math.floor(at.getTime() / 1000), TICK_CLAIM_TTL_MS), 'tick claim');
      redisAnswered();
      if (!claimed) {
        stats.skippedLease++;
        log.debug({ at }, `schedule ${name}: tick claimed by another replica`);
        return 'skipped_lease';
      }
    }
    const token = await redisCall(runLease.tryAcquire(leaseMs), 'run lease');
    redisAnswered();
    if (token === null) {
      stats.skippedLease++;
      log.info({ at }, `schedule ${name}: skipped, a run is still going on another replica`);
      return 'skipped_lease';
    }
    const renew = setInterval(() => {
      redisCall(runLease.extend(token, leaseMs), 'lease renewal').then(
        (held) => {
          if (!held) log.warn(`schedule ${name}: run lease lost while running (expired); another replica may start`);
        },
        (err: unknown) => redisFailed(err, 'lease renewal'),
      );
    }, Math.ceil(leaseMs / 3));
    renew.unref();
    const started = performance.now();
    stats.ran++;
    try {
      await opts.run({ at });
      log.debug({ at, durationMs: elapsedMs(started) }, `schedule ${name}: ran`);
    } catch (err) {
      stats.failed++;
      log.error({ at, durationMs: elapsedMs(started), err: describeError(err) }, `schedule ${name}: run failed`);
    } finally {
      clearInterval(renew);
      // Not released, the lease expires within leaseMs: the next ticks are skipped until then.
      await redisCall(runLease.release(token), 'lease release').catch((err: unknown) => redisFailed(err, 'lease release'));
    }
    return 'ran';
  }

  /** The in-process guard: set before the first await, so two callers can never both pass. */
  function attempt(at: Date, claimTick: boolean): Promise<RunResult> {
    if (inFlight) {
      stats.skippedRunning++;
      if (!overlapLogged) log.warn({ at }, `schedule ${name}: skipped, the previous run is still going`);
      overlapLogged = true;
      return Promise.resolve('skipped_running');
    }
    const current = attemptUnguarded(at, claimTick).finally(() => {
      inFlight = null;
      overlapLogged = false;
    });
    inFlight = current;
    return current;
  }

  function onTick(at: Date): void {
    attempt(at, true).catch((err: unknown) => {
      stats.skippedRedis++;
      skippedWhileDown++;
      redisFailed(err, 'tick');
    });
  }

  const cronLogger: CronLogger = {
    debug: (m, err) => log.debug(libraryText(m, err)),
    info: (m) => log.info(libraryText(m)),
    warn: (m) => log.warn(libraryText(m)),
    error: (m, err) => log.error(libraryText(m, err)),
  };

  return {
    name: `schedule:${name}`,
    async start() {
      if (task) return;
      // createTask, not schedule(): schedule() starts the task at once. node-cron keeps every task in
      // a module-wide registry until destroy(), so stop() destroys it and start() makes a new one.
      task = createTask(
        opts.cron,
        (ctx) => {
          // Not awaited: node-cron's own overlap tracking stays out of it; `attempt` guards and logs.
          onTick(ctx.date);
        },
        { name: `${keyPrefix}:${name}`, logger: cronLogger, ...(opts.timezone ? { timezone: opts.timezone } : {}) },
      );
      await task.start();
      log.debug({ cron: opts.cron, next: task.getNextRun() }, `schedule ${name}: started`);
      if (opts.runOnStart) {
        attempt(new Date(), false).then(
          (result) => log.info({ result }, `schedule ${name}: run at start`),
          (err: unknown) => redisFailed(err, 'run at start'),
        );
      }
    },
    async stop() {
      const stopping = task;
      task = null;
      if (stopping) await stopping.destroy();
      const running = inFlight;
      if (!running) return;
      const settled = running.then(
        () => true,
        () => true,
      );
      const finished = await withTimeout(settled, STOP_GRACE_MS, `schedule ${name}'s run`).catch(() => false);
      if (!finished) log.warn(`schedule ${name}: stopped while a run is still going (waited ${STOP_GRACE_MS} ms)`);
    },
    async runNow() {
      try {
        return await attempt(new Date(), false);
      } catch (err) {
        throw new AppError('dependency_unavailable', `Redis did not answer; schedule ${name} was not run.`, undefined, { cause: err });
      }
    },
    stats: () => ({ ...stats }),
  };
}

function libraryText(message: string | Error, err?: Error): string {
  const text = message instanceof Error ? describeError(message) : message;
  return scrubSecrets(err ? `node-cron: ${text}: ${describeError(err)}` : `node-cron: ${text}`);
}
