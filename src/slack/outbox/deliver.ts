import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { WebAPICallResult, WebClient } from '@slack/web-api';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../log.ts';
import type { Redis } from 'ioredis';
import type { ChannelGate } from './gate.ts';
import type { OutboxKeys } from './keys.ts';
import type { OutboxMetrics } from './metrics.ts';
import type { MessageRefs } from './refs.ts';
import { classifySlackError } from './slack-errors.ts';
import type { Queryable } from '../../db/queryable.ts';
import type { Wake } from './enqueue.ts';
import { jobIdFor } from './keys.ts';
import { finishOutboxRow, openOutboxRow, outboxRowExists } from './rows.ts';
import { findPostedByKey, keyMetadata } from './find-posted.ts';
import { outboxJobSchema, type OutboxJob, type OutboxPace, type SlackWriteMethod } from './types.ts';

export interface DeliverDeps {
  queue: Queue;
  redis: Redis;
  keys: OutboxKeys;
  gate: ChannelGate;
  refs: MessageRefs;
  /** Vigil's state pool: the outbox rows. */
  db: Queryable;
  /** Put a recorded message back in line (a parent whose job Redis lost). */
  wake: Wake;
  client: WebClient;
  metrics: OutboxMetrics;
  pace: OutboxPace;
  log: Logger;
  /** See ROLLED_BACK_AFTER_MS. */
  rolledBackAfterMs?: number;
}

export type Delivery = { method: SlackWriteMethod; channel: string; ts: string } | { skipped: 'already_delivered' | 'superseded' };

// A head waiting this long or less for a token sleeps in place; longer, it gives its worker slot
// back (moveToDelayed), since slots are shared by all channels.
const INLINE_WAIT_MS = 250;
const MAX_INLINE_WAITS = 8;
// A job waiting behind others looks again at most this much later (a finishing head promotes the
// next one at once, so this bounds only the cost of a missed hand-over).
const MAX_BEHIND_MS = 30_000;
// Stale heads dropped in one go before the job just waits (bounds the loop if Redis misbehaves).
const MAX_STALE_HEADS = 20;
// A job runs as soon as it is queued, usually before its caller's transaction commits: its row is
// looked for a few times in place, then again later; one still missing after the longest a
// caller's transaction may last (its send timeout and statements) was rolled back.
const ROW_CHECKS = 10;
const ROW_CHECK_MS = 20;
const ROW_RECHECK_MS = 500;
const ROLLED_BACK_AFTER_MS = 30_000;
const GONE = new Set(['completed', 'failed', 'unknown']);

/**
 * The BullMQ processor. A message goes out only when it is the head of its channel's line, the
 * channel is not held by a Retry-After, and the channel's token bucket has a token; otherwise the
 * job moves to "delayed" without using an attempt. Every way a message leaves the line (delivered,
 * permanent error, retries used up) takes it out of the line first, so no message wedges its channel.
 */
export function createDeliver(deps: DeliverDeps): (job: Job, token?: string) => Promise<Delivery> {
  const { gate, refs, metrics, log } = deps;
  const intervalMs = 1000 / deps.pace.perSecond;

  /**
   * Nothing more to send: the row is closed. Should Postgres not take it now, the reconciler
   * closes it later (it finds the job finished), so the delivery still counts as done.
   */
  async function closeRow(key: string): Promise<void> {
    await finishOutboxRow(deps.db, key).catch((err: unknown) => log.warn({ key, err: describeError(err) }, 'slack outbox: could not close the row; the reconciler will'));
  }

  /** The ts of this key's message if Slack has it already; null when not, or when Slack cannot say (said once). */
  let lookupProblem = '';
  async function postedBefore(channel: string, key: string, sinceMs: number, threadTs: string | undefined): Promise<string | null> {
    try {
      return await findPostedByKey(deps.client, channel, key, sinceMs, threadTs);
    } catch (err) {
      const problem = describeError(err);
      if (problem !== lookupProblem) log.warn({ channel, err: problem }, 'slack outbox: cannot look for an earlier post (needs channels:history / groups:history); posting again');
      lookupProblem = problem;
      return null;
    }
  }

  async function delay(job: Job, token: string | undefined, ms: number): Promise<never> {
    await job.moveToDelayed(Date.now() + Math.ceil(ms), token);
    throw new DelayedError();
  }

  /** Leave the line and wake the next message, which may be sleeping in "delayed". */
  async function leave(data: OutboxJob, jobId: string, delivered: boolean): Promise<void> {
    const next = await gate.finish(data.channel, jobId, delivered);
    await closeRow(data.key);
    if (next === null) return;
    const nextJob = await deps.queue.getJob(next);
    // Best effort: a next job that is waiting or running now looks for its turn by itself soon.
    if (nextJob && (await nextJob.getState()) === 'delayed') {
      await nextJob.promote().catch((err: unknown) => log.debug({ jobId: next, err: describeError(err) }, 'slack outbox: hand-over not needed'));
    }
  }

  async function giveUp(data: OutboxJob, jobId: string, reason: string): Promise<never> {
    await leave(data, jobId, false);
    log.warn({ key: data.key, channel: data.channel, reason }, 'slack outbox: message given up');
    throw new UnrecoverableError(reason);
  }

  /** Returns once this job may send (a token is taken), or 'done'; otherwise moves it to delayed. */
  async function waitForTurn(job: Job, jobId: string, data: OutboxJob, token: string | undefined): Promise<'go' | 'done'> {
    let staleDropped = 0;
    let inlineWaits = 0;
    for (;;) {
      const turn = await gate.claim(data.channel, jobId, data.seq, job.timestamp);
      if (turn.kind === 'go' || turn.kind === 'done') return turn.kind;
      if (turn.kind === 'behind') {
        // A head whose job was removed or failed outside our code would block the line forever.
        if (staleDropped < MAX_STALE_HEADS && GONE.has(await deps.queue.getJobState(turn.head))) {
          log.warn({ channel: data.channel, head: turn.head }, 'slack outbox: dropping a line head whose job is gone');
          await gate.finish(data.channel, turn.head, false);
          staleDropped += 1;
          continue;
        }
        return delay(job, token, turn.holdMs + Math.min(MAX_BEHIND_MS, Math.max(1, turn.rank) * intervalMs));
      }
      if (turn.ms > INLINE_WAIT_MS || inlineWaits >= MAX_INLINE_WAITS) return delay(job, token, turn.ms);
      inlineWaits += 1;
      await sleep(turn.ms);
    }
  }

  async function rowCommitted(key: string): Promise<boolean> {
    for (let check = 1; ; check++) {
      if (await outboxRowExists(deps.db, key)) return true;
      if (check >= ROW_CHECKS) return false;
      await sleep(ROW_CHECK_MS);
    }
  }

  return async function deliver(job, token) {
    const jobId = job.id ?? '';
    const parsed = outboxJobSchema.safeParse(job.data);
    // Nothing safe to send; the head check of the next message in its line drops it once failed.
    if (!parsed.success) throw new UnrecoverableError(`invalid outbox job data: ${parsed.error.message}`);
    const data = parsed.data;

    if ((await waitForTurn(job, jobId, data, token)) === 'done') {
      metrics.duplicate('worker');
      await closeRow(data.key);
      return { skipped: 'already_delivered' };
    }
    // Nothing goes out before the change it reports has committed, nor for one rolled back.
    if (data.committedRow && !(await rowCommitted(data.key))) {
      if (Date.now() - job.timestamp < (deps.rolledBackAfterMs ?? ROLLED_BACK_AFTER_MS)) return delay(job, token, ROW_RECHECK_MS);
      return giveUp(data, jobId, 'its change was rolled back (no outbox row)');
    }
    // Posted by an earlier run that stopped before leaving the line (so this job is still its
    // channel's head): record what is missing, never post twice.
    if (data.op === 'post' && (data.posted || (await refs.find(data.key)))) {
      if (data.posted) await refs.record(data.key, { channel: data.channel, ts: data.posted.ts }, data.posted.threadTs);
      metrics.duplicate('worker');
      await leave(data, jobId, true);
      return { skipped: 'already_delivered' };
    }

    // A newer update of the same message waits further down the line: it shows everything this
    // one would, so this one is not sent (a storm of changes costs one chat.update, not hundreds).
    if (data.op === 'update' && Number(await deps.redis.get(deps.keys.latestUpdate(data.ref))) > data.seq) {
      metrics.duplicate('superseded');
      await leave(data, jobId, true);
      return { skipped: 'superseded' };
    }

    // Looked up only now, at the head of the line: the parent was ahead of us and is posted by now.
    const target = data.op === 'update' ? data.ref : data.threadOf;
    const targetRef = target === undefined ? null : await refs.find(target);
    if (target !== undefined && targetRef === null) {
      // Recorded but its job lost with Redis (this one was sent after the loss): put the parent
      // back in line, ahead of this one by its older seq, and let it go first.
      const parent = await openOutboxRow(deps.db, target);
      if (parent && (await deps.queue.getJobState(jobIdFor(target))) === 'unknown') {
        await deps.wake(parent, { recheck: true });
        log.warn({ key: data.key, parent: target }, 'slack outbox: the message this one follows was lost from Redis; put back in line first');
        return delay(job, token, intervalMs);
      }
      return giveUp(data, jobId, data.op === 'update' ? 'ref_not_posted' : 'parent_not_posted');
    }

    // A post tried before (its answer may have been lost after Slack accepted it), taken back from
    // a worker that died while sending it (stalled: BullMQ counts no attempt for that), or put back
    // in line after Redis lost it: looked for in the channel by its key before it goes out again.
    if (data.op === 'post' && (job.attemptsMade > 0 || job.stalledCounter > 0 || data.recheck)) {
      const ts = await postedBefore(data.channel, data.key, job.timestamp, targetRef?.ts);
      if (ts !== null) {
        await refs.record(data.key, { channel: data.channel, ts }, targetRef?.ts);
        metrics.duplicate('worker');
        await leave(data, jobId, true);
        return { skipped: 'already_delivered' };
      }
    }

    const method: SlackWriteMethod = data.op === 'post' ? 'chat.postMessage' : 'chat.update';
    const content = { text: data.message.text, ...(data.message.blocks && { blocks: data.message.blocks }) };
    const args =
      data.op === 'post'
        ? { channel: data.channel, ...content, metadata: keyMetadata(data.key), ...(targetRef && { thread_ts: targetRef.ts }) }
        : { channel: targetRef?.channel ?? data.channel, ts: targetRef?.ts, ...content };
    let result: WebAPICallResult;
    try {
      result = await deps.client.apiCall(method, args);
    } catch (err) {
      const failure = classifySlackError(err);
      metrics.write(method, data.kind, failure.kind);
      if (failure.kind === 'rate_limited') {
        const heldMs = await gate.hold(data.channel, failure.retryAfterMs);
        log.info({ channel: data.channel, heldMs }, 'slack outbox: 429, channel held for Retry-After');
        return delay(job, token, heldMs);
      }
      if (failure.kind === 'permanent') return giveUp(data, jobId, failure.reason);
      // The last attempt leaves the line before BullMQ fails the job, so the next message goes out.
      if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) return giveUp(data, jobId, `${failure.reason} (attempts used up)`);
      throw new Error(`${failure.reason}: ${describeError(err)}`);
    }
    metrics.write(method, data.kind, 'ok');
    if (data.originAt !== undefined) metrics.latency(data.kind, (Date.now() - data.originAt) / 1000);

    const ts = data.op === 'post' ? (result as { ts?: unknown }).ts : targetRef?.ts;
    if (typeof ts !== 'string') return giveUp(data, jobId, 'no_ts_in_answer');
    if (data.op === 'post') {
      const posted = { ts, ...(targetRef && { threadTs: targetRef.ts }) };
      await job.updateData({ ...data, posted });
      await refs.record(data.key, { channel: data.channel, ts }, posted.threadTs);
    } else {
      await refs.markUpdated(data.ref);
    }
    await leave(data, jobId, true);
    return { method, channel: data.channel, ts };
  };
}
