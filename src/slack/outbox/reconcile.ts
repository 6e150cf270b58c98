import type { Queue } from 'bullmq';
import type { Queryable } from '../../db/queryable.ts';
import type { Logger } from '../../log.ts';
import type { Wake } from './enqueue.ts';
import { jobIdFor } from './keys.ts';
import type { OutboxMetrics } from './metrics.ts';
import { finishOutboxRow, newerUpdateExists, openOutboxRows, pruneOutboxRows } from './rows.ts';

export interface ReconcileResult {
  requeued: number;
  finished: number;
  pruned: number;
}

// Younger rows may belong to a send still between its row and its job, or to a transaction
// not yet committed: only rows older than this are compared with Redis.
export const RECONCILE_AFTER_MS = 10_000;
const BATCH = 500;
// Finished rows are kept this long (a repeated send within it is still a duplicate), then pruned.
const KEEP_FINISHED_DAYS = 7;

/**
 * Postgres is the truth, Redis a wake-up: every open row whose job Redis no longer has (a restart
 * without persistence, a failover, a flush) is put back in line under its own seq, so its
 * channel's order holds; a row whose job finished is closed; an update a newer one of the same
 * message supersedes is closed without sending. Run on one replica per tick, and at worker start.
 */
export function createReconciler(deps: { queue: Queue; db: Queryable; wake: Wake; metrics: OutboxMetrics; log: Logger }): (olderThanMs?: number) => Promise<ReconcileResult> {
  return async function reconcile(olderThanMs = RECONCILE_AFTER_MS) {
    const result: ReconcileResult = { requeued: 0, finished: 0, pruned: 0 };
    for (const row of await openOutboxRows(deps.db, olderThanMs, BATCH)) {
      const state = await deps.queue.getJobState(jobIdFor(row.key));
      if (state === 'completed' || state === 'failed') {
        // Delivered or given up, and the worker could not close the row (Postgres was away).
        await finishOutboxRow(deps.db, row.key);
        result.finished += 1;
      } else if (state === 'unknown') {
        if (row.op === 'update' && row.target !== null && (await newerUpdateExists(deps.db, row.target, row.seq))) {
          await finishOutboxRow(deps.db, row.key);
          result.finished += 1;
        } else {
          await deps.wake(row, { recheck: true });
          result.requeued += 1;
        }
      }
    }
    result.pruned = await pruneOutboxRows(deps.db, KEEP_FINISHED_DAYS, BATCH);
    if (result.requeued > 0) {
      deps.metrics.requeued(result.requeued);
      deps.log.warn({ requeued: result.requeued }, 'slack outbox: messages whose job Redis had lost are back in line');
    }
    return result;
  };
}
