import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { WebClient } from '@slack/web-api';
import { describeError } from '../../core/errors.ts';
import { distinctErrorLogger } from '../../db/redis-clients.ts';
import { closeWorker } from '../../db/close-worker.ts';
import type { Logger } from '../../log.ts';
import { retryDelayMs } from './backoff.ts';
import { createDeliver } from './deliver.ts';
import { createEnqueue } from './enqueue.ts';
import { createReconciler } from './reconcile.ts';
import { createChannelGate } from './gate.ts';
import { outboxKeys, QUEUE_NAME } from './keys.ts';
import { createOutboxMetrics } from './metrics.ts';
import type { Queryable } from '../../db/queryable.ts';
import { createMessageRefs } from './refs.ts';
import { DEFAULT_RETRY, type Outbox, type OutboxPace, type OutboxRetry } from './types.ts';

export type { Outbox, OutboxMessage, OutboxRequest, OutboxPace, OutboxRetry, MessageRef } from './types.ts';
export { DEFAULT_PACE, DEFAULT_RETRY } from './types.ts';

export interface OutboxDeps {
  /** ioredis with `maxRetriesPerRequest: null`: Vigil's own BullMQ connection (not closed here). */
  connection: Redis;
  /** Vigil's own key prefix (default `vigil`), never the prefix of the queues Vigil inspects. */
  prefix: string;
  /** Vigil's state pool: `vigil.slack_messages` holds where each posted message is. */
  db: Queryable;
  /**
   * A client that neither queues on 429 nor retries (createSlackClient): the outbox decides. Null
   * for a replica that only enqueues (the CLI, the shell): a bot's worker delivers.
   */
  client: WebClient | null;
  pace: OutboxPace;
  metrics: Registry;
  log: Logger;
  /** Worker slots per replica, shared by all channels (each channel still sends one at a time). */
  concurrency?: number;
  retry?: Partial<OutboxRetry>;
  /** A message whose row has not appeared this long after it was queued was rolled back (default 30 s). */
  rolledBackAfterMs?: number;
}

// Finished jobs keep their id (so a repeated send is a duplicate) for a day; a delivered job's
// done marker lives as long. Failed jobs stay a week for someone to look at or retry.
const KEEP_COMPLETED_MS = 24 * 3600_000;
const KEEP_COMPLETED_COUNT = 10_000;
const KEEP_FAILED_MS = 7 * 24 * 3600_000;
const DEFAULT_CONCURRENCY = 4;
// Longer than the Slack client's own timeout, so a delivery under way can finish.
const CLOSE_GRACE_MS = 12_000;
// A replica that dies while sending: its job's lock lapses after LOCK_MS and a live worker's
// stalled check (every STALLED_CHECK_MS) takes it back, within about 25 s rather than BullMQ's
// default minute, since an alert waits on it. The lock is renewed every LOCK_MS / 2 meanwhile.
const LOCK_MS = 15_000;
const STALLED_CHECK_MS = 10_000;
// Taken back is safe (the post is looked up before it goes again): BullMQ's default fails a job
// on its second stall, and a failed job's message would be closed unsent.
const MAX_STALLS = 5;
// Stale entries skipped per scrape when finding the oldest pending message.
const MAX_STALE_AGE_ENTRIES = 10;

/**
 * The Slack outbox: the one path for every message Vigil starts itself. Any replica may send; only
 * the bot runs a worker. Messages to one channel go out in the order they were sent, paced under
 * Slack's per-channel limit, at most once per idempotency key.
 */
export function createOutbox(deps: OutboxDeps): Outbox {
  const { connection, prefix, log } = deps;
  if (!(deps.pace.perSecond > 0) || !(deps.pace.burst >= 1)) {
    throw new Error(`Slack outbox pace needs perSecond > 0 and burst >= 1 (got ${deps.pace.perSecond}/s, burst ${deps.pace.burst})`);
  }
  const retry: OutboxRetry = { ...DEFAULT_RETRY, ...deps.retry };
  const keys = outboxKeys(prefix);
  const queue = new Queue(QUEUE_NAME, { connection, prefix });
  // Without a listener an 'error' event would throw. The connection already logs each outage once;
  // the queue and worker re-emit it on every reconnect attempt, so only a different error is logged.
  queue.on('error', distinctErrorLogger(log, 'slack outbox queue: redis error').onError);
  const gate = createChannelGate(connection, keys, deps.pace, KEEP_COMPLETED_MS);
  const refs = createMessageRefs(deps.db);

  const metrics = createOutboxMetrics(
    deps.metrics,
    {
      async depth() {
        const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
        return Object.values(counts).reduce((sum, n) => sum + n, 0);
      },
      async oldestAgeSeconds() {
        for (let i = 0; i < MAX_STALE_AGE_ENTRIES; i++) {
          const oldest = await gate.oldest();
          if (oldest === null) return 0;
          const state = await queue.getJobState(oldest.jobId);
          if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return oldest.ageMs / 1000;
          // Removed or failed outside the outbox's own code: not pending any more.
          await gate.forgetAge(oldest.jobId);
        }
        throw new Error('too many stale entries in the outbox age index');
      },
    },
    log,
  );

  const { send, wake } = createEnqueue({
    queue,
    redis: connection,
    keys,
    gate,
    db: deps.db,
    retry,
    metrics,
    keepCompletedMs: KEEP_COMPLETED_MS,
    keepCompletedCount: KEEP_COMPLETED_COUNT,
    keepFailedMs: KEEP_FAILED_MS,
  });
  const reconcile = createReconciler({ queue, db: deps.db, wake, metrics, log });
  let worker: Worker | null = null;
  let closing: Promise<void> | null = null;

  return {
    send,
    messageRef: (key) => refs.find(key),
    reconcile,
    async startWorker() {
      if (closing) throw new Error('slack outbox: closed, cannot start a worker');
      if (worker) return;
      if (!deps.client) throw new Error('slack outbox: this replica only enqueues (no Slack client); a bot delivers');
      const deliver = createDeliver({
        queue,
        redis: connection,
        keys,
        gate,
        refs,
        db: deps.db,
        wake,
        client: deps.client,
        metrics,
        pace: deps.pace,
        log,
        ...(deps.rolledBackAfterMs !== undefined ? { rolledBackAfterMs: deps.rolledBackAfterMs } : {}),
      });
      worker = new Worker(QUEUE_NAME, deliver, {
        connection,
        prefix,
        concurrency: deps.concurrency ?? DEFAULT_CONCURRENCY,
        lockDuration: LOCK_MS,
        stalledInterval: STALLED_CHECK_MS,
        maxStalledCount: MAX_STALLS,
        settings: { backoffStrategy: (attemptsMade: number) => retryDelayMs(attemptsMade, retry) },
      });
      worker.on('error', distinctErrorLogger(log, 'slack outbox worker: error', 'error').onError);
      // Retried every few seconds through an outage: said on the first attempts and then ever more
      // rarely, and always when it is given up on, rather than once per retry.
      worker.on('failed', (job, err) => {
        const made = job?.attemptsMade ?? 0;
        const last = made >= retry.attempts;
        const line = { jobId: job?.id, attemptsMade: made, err: describeError(err) };
        if (last) log.error(line, 'slack outbox: delivery given up after its last attempt');
        else if (made <= 2 || Number.isInteger(Math.log2(made))) log.warn(line, 'slack outbox: delivery attempt failed; retrying');
        else log.debug(line, 'slack outbox: delivery attempt failed; retrying');
      });
      // Not awaited: with Redis down at start the worker connects when Redis returns, and the bot
      // must start and answer meanwhile rather than wait for it.
      worker.waitUntilReady().catch((err: unknown) => log.warn({ err: describeError(err) }, 'slack outbox worker: not ready'));
    },
    close() {
      closing ??= (async () => {
        if (worker) {
          // An in-flight delivery finishes while Redis answers (it records itself there).
          await closeWorker(worker, { graceMs: CLOSE_GRACE_MS, needsRedis: connection, log, what: 'slack outbox' });
        }
        await queue.close();
      })();
      return closing;
    },
  };
}
