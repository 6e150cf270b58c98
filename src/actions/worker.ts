import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { describeError } from '../core/errors.ts';
import type { Runnable } from '../core/runnable.ts';
import type { StateStore } from '../db/state.ts';
import { inTransaction } from '../db/transaction.ts';
import { closeWorker } from '../db/close-worker.ts';
import { distinctErrorLogger } from '../db/redis-clients.ts';
import type { Logger } from '../log.ts';
import type { ActionMetrics } from './metrics.ts';
import type { ActionService, AuditAppend } from './service.ts';
import { resultThread } from './messages.ts';
import { approvedWaiting, expireOverdue, finishRun, heartbeat, interruptStale, startRun } from './store.ts';
import { REQUEST_ID } from './request.ts';

export const ACTIONS_QUEUE = 'actions';
const HEARTBEAT_MS = 5_000;
// A run whose heartbeat is this old (four beats missed) lost its worker (SIGKILL, crash, lost host).
export const STALE_RUN_MS = 20_000;
// Approved this long ago and still not running: its job may never have been added (Redis away).
const REENQUEUE_AFTER_MS = 15_000;
/**
 * At shutdown a run in progress gets this long to finish; then it is aborted (a command's process
 * group gets SIGTERM, then SIGKILL) and recorded as failed, "stopped by the shutdown", rather than
 * left for the next start to find interrupted.
 */
export const RUN_STOP_GRACE_MS = 10_000;
// An aborted run ends within the runner's SIGTERM → SIGKILL grace (5 s) and its output drain,
// then records its failure in Postgres and BullMQ's bookkeeping in Redis.
const ABORTED_SETTLE_MS = 10_000;
export const SHUTDOWN_ABORT_SUMMARY = 'Stopped: Vigil shut down before the run finished.';

export interface ActionWorkerDeps {
  connection: Redis;
  prefix: string;
  state: StateStore;
  service: ActionService;
  audit: AuditAppend;
  metrics: ActionMetrics;
  log: Logger;
  concurrency?: number;
  /** How long a run in progress may take to finish at shutdown (default RUN_STOP_GRACE_MS). */
  runStopGraceMs?: number;
}

export interface ActionQueue extends Runnable {
  /** Add the job of an approved request; its id is the request's, so adding twice adds once. */
  enqueue(requestId: string): Promise<void>;
  /** Expire undecided requests, mark runs whose worker died as interrupted, re-add lost jobs. */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs approved requests exactly once. The job id is the request id (a second enqueue is a no-op),
 * and the run starts only through the guarded approved → running UPDATE, so a job that runs again
 * (BullMQ stalled-job recovery, a replica racing) finds the request no longer approved and stops.
 * Jobs are never retried (attempts 1, maxStalledCount 0): an action runs at most once per approval.
 */
export function createActionQueue(deps: ActionWorkerDeps): ActionQueue {
  const { connection, prefix, log } = deps;
  const queue = new Queue(ACTIONS_QUEUE, { connection, prefix });
  queue.on('error', distinctErrorLogger(log, 'actions queue: redis error').onError);
  let worker: Worker | null = null;
  // Runs in progress, so a shutdown past its grace can abort them.
  const running = new Set<AbortController>();

  async function pool() {
    const s = await deps.state.ready();
    if (s.kind !== 'ready') throw new Error(`state database unavailable: ${s.why}`);
    return s.pool;
  }

  async function run(job: Job): Promise<string> {
    const id = String(job.data?.requestId ?? '');
    if (!REQUEST_ID.test(id)) return 'invalid job';
    const db = await pool();
    const started = await inTransaction(db, async (tx) => {
      const req = await startRun(tx, id);
      if (!req) return null;
      // Published before the audit append, which holds the chain lock until commit.
      await deps.service.publish(tx, req);
      await deps.audit(tx, [{ actorId: 'vigil', kind: 'action.start', subject: req.action, requestId: id, outcome: 'running', details: { preview: req.preview } }]);
      return req;
    });
    if (!started) return 'not approved (already run, denied or expired)';
    const def = deps.service.definition(started.action);
    if (started.decidedAt) deps.metrics.approvalToStart(started.action, (Date.now() - started.decidedAt) / 1000);

    const beat = setInterval(() => void heartbeat(db, id).catch(() => undefined), HEARTBEAT_MS);
    const abort = new AbortController();
    running.add(abort);
    let outcome: { ok: boolean; summary: string; output: string };
    try {
      outcome = def
        ? await def.run(started.params, { signal: abort.signal, requestedBy: started.requestedByName ?? started.requestedBy })
        : { ok: false, summary: `${started.action} is no longer in the catalog`, output: '' };
    } catch (err) {
      outcome = { ok: false, summary: `The runner failed: ${describeError(err)}`, output: '' };
    } finally {
      clearInterval(beat);
      running.delete(abort);
    }
    if (abort.signal.aborted) outcome = { ...outcome, ok: false, summary: `${SHUTDOWN_ABORT_SUMMARY} ${outcome.summary}`.trim() };
    // The outcome is recorded whatever Slack does: a report that cannot be posted (Redis away) must
    // not leave a finished run looking interrupted.
    const finished = await inTransaction(db, async (tx) => {
      const req = await finishRun(tx, id, outcome.ok, outcome.summary, outcome.output);
      if (!req) return null;
      await deps.audit(tx, [{ actorId: 'vigil', kind: 'action.end', subject: req.action, requestId: id, outcome: req.state, details: { summary: outcome.summary } }]);
      return req;
    });
    if (finished) {
      await deps.service.publish(db, finished, resultThread(finished)).catch((err: unknown) => log.warn({ request: id, err: describeError(err) }, 'actions: could not post the result'));
    }
    deps.metrics.executed(started.action, outcome.ok ? 'succeeded' : 'failed');
    return finished ? finished.state : 'finished after being marked interrupted';
  }

  return {
    name: 'action-worker',
    async enqueue(requestId) {
      // BullMQ refuses ids with `:`; request ids have none.
      const jobId = `action-${requestId}`;
      const existing = await queue.getJob(jobId);
      // A job that failed before it could start the run (state database away) may run again: the
      // guarded approved → running UPDATE still lets only one run happen.
      if (existing && (await existing.isFailed())) return void (await existing.retry('failed'));
      await queue.add('run', { requestId }, { jobId, attempts: 1, removeOnComplete: { age: 7 * 24 * 3600 }, removeOnFail: { age: 30 * 24 * 3600 } });
    },
    async sweep() {
      const db = await pool();
      for (const req of await expireOverdue(db)) {
        deps.metrics.decided(req.action, 'expired');
        await inTransaction(db, async (tx) => {
          await deps.audit(tx, [{ actorId: 'vigil', kind: 'action.expire', subject: req.action, requestId: req.id, outcome: 'expired' }]);
          await deps.service.publish(tx, req, { text: '⌛ Nobody decided in time: expired, nothing ran.' });
        });
      }
      for (const req of await interruptStale(db, STALE_RUN_MS)) {
        deps.metrics.executed(req.action, 'interrupted');
        await inTransaction(db, async (tx) => {
          await deps.audit(tx, [{ actorId: 'vigil', kind: 'action.end', subject: req.action, requestId: req.id, outcome: 'interrupted' }]);
          await deps.service.publish(tx, req, { text: `⚠️ Interrupted: ${req.summary ?? ''} Check what it did before asking again.` });
        });
      }
      for (const id of await approvedWaiting(db, REENQUEUE_AFTER_MS)) await this.enqueue(id);
    },
    async start() {
      if (worker) return;
      worker = new Worker(ACTIONS_QUEUE, run, { connection, prefix, concurrency: deps.concurrency ?? 2, maxStalledCount: 0 });
      worker.on('error', distinctErrorLogger(log, 'actions worker: error', 'error').onError);
      worker.on('failed', (job, err) => log.warn({ jobId: job?.id, err: describeError(err) }, 'actions: job failed'));
      worker.waitUntilReady().catch((err: unknown) => log.warn({ err: describeError(err) }, 'actions worker: not ready'));
    },
    async stop() {
      const stopping = worker;
      worker = null;
      if (!stopping) return;
      // Runs are local processes: they get their grace whether Redis answers or not.
      await closeWorker(stopping, {
        graceMs: deps.runStopGraceMs ?? RUN_STOP_GRACE_MS,
        onGraceOver() {
          log.warn({ runs: running.size }, 'actions: runs still going after the shutdown grace; aborting them');
          for (const abort of running) abort.abort();
        },
        settleMs: ABORTED_SETTLE_MS,
        log,
        what: 'actions',
      });
    },
    async close() {
      await queue.close();
    },
  };
}
