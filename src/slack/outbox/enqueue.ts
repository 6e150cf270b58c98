import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError } from '../../core/errors.ts';
import { raiseMark } from '../../db/high-water-mark.ts';
import { BACKOFF_TYPE } from './backoff.ts';
import type { ChannelGate } from './gate.ts';
import { jobIdFor, type OutboxKeys } from './keys.ts';
import type { OutboxMetrics } from './metrics.ts';
import { createMessageRefs } from './refs.ts';
import { insertOutboxRow, outboxChannelOf, type OutboxRow } from './rows.ts';
import type { Queryable } from '../../db/queryable.ts';
import { renderChannelMessage } from '../channel-message.ts';
import { outboxJobSchema, type Outbox, type OutboxRequest, type OutboxRetry } from './types.ts';

export interface EnqueueDeps {
  queue: Queue;
  redis: Redis;
  keys: OutboxKeys;
  gate: ChannelGate;
  /** Vigil's state pool, for a sender that holds no connection of its own. */
  db: Queryable;
  retry: OutboxRetry;
  metrics: OutboxMetrics;
  /** How long finished jobs stay in Redis (and so keep their id taken). */
  keepCompletedMs: number;
  /** …and at most this many (the done marker still covers the rest of keepCompletedMs). */
  keepCompletedCount: number;
  keepFailedMs: number;
}

/** Put a recorded message in Redis: its job, its place in its channel's line. */
export type Wake = (row: Pick<OutboxRow, 'key' | 'seq' | 'op' | 'channel' | 'target' | 'job'>, opts?: { recheck?: boolean }) => Promise<string>;

/**
 * `send()`: record one logical message in Postgres (the caller's transaction when it passes its
 * connection), then wake a sender through Redis. The row is the truth: its key makes a second
 * send a duplicate, its seq (a Postgres sequence) orders the channel's line whichever replica
 * delivers, and a reconciler re-enqueues it should Redis lose the job.
 */
export function createEnqueue(deps: EnqueueDeps): { send: Outbox['send']; wake: Wake } {
  const { queue, gate } = deps;

  const wake: Wake = async (row, opts) => {
    const jobId = jobIdFor(row.key);
    // Parsed here too, so nothing is enqueued that the worker would refuse.
    const data = outboxJobSchema.parse({ ...row.job, seq: row.seq, ...(opts?.recheck && row.op === 'post' ? { recheck: true } : {}) });
    await queue.add(row.op, data, {
      jobId,
      attempts: deps.retry.attempts,
      backoff: { type: BACKOFF_TYPE },
      removeOnComplete: { age: Math.ceil(deps.keepCompletedMs / 1000), count: deps.keepCompletedCount },
      removeOnFail: { age: Math.ceil(deps.keepFailedMs / 1000) },
    });
    await gate.enqueued(row.channel, jobId, row.seq);
    // Before the job can run? Not needed: an update that runs before its mark is raised is simply
    // sent, which is what happened before coalescing existed.
    if (row.op === 'update' && row.target !== null) await raiseMark(deps.redis, deps.keys.latestUpdate(row.target), row.seq, deps.keepCompletedMs);
    return jobId;
  };

  /** The channel of a message queued before its row existed (sent by an older Vigil), from Redis. */
  async function queuedChannelOf(key: string): Promise<string | null> {
    const parsed = outboxJobSchema.safeParse((await queue.getJob(jobIdFor(key)))?.data);
    return parsed.success ? parsed.data.channel : null;
  }

  async function send(req: OutboxRequest, db?: Queryable) {
    // Postgres first, all of it, on the caller's connection when given (a caller holding a
    // transaction must never need a second connection from the same pool), and nothing of it
    // after the first Redis call: a send given up on while Redis is slow must not touch that
    // connection again once the caller has rolled back and released it.
    let pg = db ?? deps.db;
    const refs = createMessageRefs(pg);
    // An update and a thread reply wait in the line of the channel their message is in, behind it.
    const target = req.op === 'update' ? req.ref : req.threadOf;
    let targetChannel = target === undefined ? null : ((await refs.find(target))?.channel ?? (await outboxChannelOf(pg, target)));
    if (target !== undefined && targetChannel === null) {
      targetChannel = await queuedChannelOf(target);
      // Redis was asked: the row goes through the pool, outside the caller's transaction.
      pg = deps.db;
    }
    if (target !== undefined && targetChannel === null) {
      throw new AppError('not_found', `No Slack message with key ${target} was sent through the outbox`);
    }
    const channel = req.op === 'update' ? (targetChannel as string) : req.channel;
    if (req.op === 'post' && targetChannel !== null && targetChannel !== channel) {
      throw new AppError('bad_args', `A thread reply must go to its parent's channel (${targetChannel}), not ${channel}`);
    }
    const common = {
      channel,
      key: req.key,
      message: renderChannelMessage(req.message),
      ...(req.kind && { kind: req.kind }),
      ...(req.originAt && { originAt: Math.round(req.originAt) }),
      committedRow: true as const,
    };
    const job = req.op === 'update' ? { ...common, op: 'update', ref: req.ref } : { ...common, op: 'post', ...(req.threadOf !== undefined && { threadOf: req.threadOf }) };
    const row = { key: req.key, op: req.op, channel, target: target ?? null, job };
    const seq = await insertOutboxRow(pg, row);
    const jobId = jobIdFor(req.key);
    if (seq === null) {
      deps.metrics.duplicate('enqueue');
      return { jobId, duplicate: true };
    }
    await wake({ ...row, seq });
    return { jobId, duplicate: false };
  }

  return { send, wake };
}
