import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.ts';

// How long a PING may take to count as "Redis answers"; how long a forced close may take.
const ANSWER_MS = 1000;
const FORCED_MS = 2000;

export interface CloseWorkerOptions {
  /** How long the jobs under way may take to finish. */
  graceMs: number;
  /** Past the grace, e.g. abort what still runs; the close then gets `settleMs` more. */
  onGraceOver?: () => void;
  settleMs?: number;
  /**
   * The worker's connection, when its jobs need Redis to finish (a delivery records itself there):
   * while it does not answer, nothing can finish, so the close is forced at once.
   */
  needsRedis?: Redis;
  log: Logger;
  what: string;
}

/**
 * Close a BullMQ worker in bounded time. BullMQ's graceful close waits for the jobs under way and
 * its blocking read, which on a silent Redis link (connected, no replies) never return, and a
 * forced close asked for afterwards only hands back that same pending promise. So the close is
 * forced while Redis does not answer, and otherwise waited for at most grace + settle; what is
 * still pending then is left behind, to end when the connection is closed (closeRedis drops it).
 */
export async function closeWorker(worker: Worker, opts: CloseWorkerOptions): Promise<void> {
  const settleMs = opts.settleMs ?? FORCED_MS;
  if (opts.needsRedis && !(await answers(opts.needsRedis))) {
    if (!(await settles(worker.close(true), FORCED_MS))) opts.log.warn(`${opts.what}: Redis does not answer; stopped without waiting for the worker`);
    return;
  }
  const closing = worker.close();
  if (await settles(closing, opts.graceMs)) return;
  opts.onGraceOver?.();
  if (!(await settles(closing, settleMs))) opts.log.warn(`${opts.what}: the worker did not close within ${Math.round((opts.graceMs + settleMs) / 1000)} s; stopped without it`);
}

/** Whether Redis replies now: a silent link keeps ioredis' status 'ready', so only a reply tells. */
async function answers(redis: Redis): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  return settles(
    redis.ping().then(
      () => undefined,
      () => {
        throw new Error('no PONG');
      },
    ),
    ANSWER_MS,
    false,
  );
}

/** Whether `promise` settles within `ms` (a rejection counts, unless `rejectionCounts` is false). */
function settles(promise: Promise<unknown>, ms: number, rejectionCounts = true): Promise<boolean> {
  const settled = promise.then(
    () => true,
    () => rejectionCounts,
  );
  return Promise.race([settled, sleep(ms, false, { ref: false })]);
}
