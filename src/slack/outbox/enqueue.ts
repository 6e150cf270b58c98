import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError } from '../../core/errors.ts';
import { raiseMark } from '../../db/high-water-mark.ts';
import { BACKOFF_TYPE } from './backoff.ts';
import type { ChannelGate } from './gate.ts';
import { jobIdFor, type OutboxKeys } from './keys.ts';
import type { OutboxMetrics } from './metrics.ts';
import { createMessageRefs, type MessageRefs } from './refs.ts';
import { renderChannelMessage } from '../channel-message.ts';
import { outboxJobSchema, type Outbox, type OutboxRetry } from './types.ts';

export interface EnqueueDeps {
  queue: Queue;
  redis: Redis;
  keys: OutboxKeys;
  gate: ChannelGate;
  refs: MessageRefs;
  retry: OutboxRetry;
  metrics: OutboxMetrics;
  /** How long finished jobs stay in Redis (and so keep their id taken). */
  keepCompletedMs: number;
  /** …and at most this many (the done marker still covers the rest of keepCompletedMs). */
  keepCompletedCount: number;
  keepFailedMs: number;
}

/**
 * `send()`: put one logical message in line for its channel. Order comes from a global sequence
 * taken here (INCR), so messages one caller sends one after another are delivered in that order,
 * whichever replica's worker delivers them.
 *
 * The steps are ordered so a crash between any two loses nothing that matters: INCR only burns a
 * number; a job added but not yet in its channel's line puts itself there when a worker picks it up.
 */
export function createEnqueue(deps: EnqueueDeps): Outbox['send'] {
  const { queue, refs, gate } = deps;

  /** The channel of a message sent earlier through the outbox and still queued (not posted yet). */
  async function queuedChannelOf(key: string): Promise<string | null> {
    const parsed = outboxJobSchema.safeParse((await queue.getJob(jobIdFor(key)))?.data);
    return parsed.success ? parsed.data.channel : null;
  }

  /**
   * Already in the queue (in any state), delivered within the done-marker TTL, or posted for good
   * (`posted`, read before). Two concurrent sends of one key may both pass: BullMQ's job id then
   * keeps a single job (both answer `duplicate: false`), and the line keeps the first position (ZADD NX).
   */
  async function seenBefore(jobId: string, posted: boolean): Promise<boolean> {
    if (posted) return true;
    if (await queue.getJob(jobId)) return true;
    return gate.isDone(jobId);
  }

  return async function send(req, db) {
    const jobId = jobIdFor(req.key);
    // Postgres first, all of it, through the caller's connection when given (a caller holding a
    // transaction must not need a second connection from the same pool), and nothing of it after
    // the first Redis call: a send given up on while Redis is slow must never touch that
    // connection again, once the caller has rolled back and released it.
    const refs = db ? createMessageRefs(db) : deps.refs;
    const target = req.op === 'update' ? req.ref : req.threadOf;
    const [posted, targetRef] = [req.op === 'post' && (await refs.find(req.key)) !== null, target === undefined ? null : await refs.find(target)];
    if (await seenBefore(jobId, posted)) {
      deps.metrics.duplicate('enqueue');
      return { jobId, duplicate: true };
    }
    // An update and a thread reply wait in the line of the channel their message is in, behind it.
    const targetChannel = target === undefined ? null : (targetRef?.channel ?? (await queuedChannelOf(target)));
    if (target !== undefined && targetChannel === null) {
      throw new AppError('not_found', `No Slack message with key ${target} was sent through the outbox`);
    }
    const channel = req.op === 'update' ? (targetChannel as string) : req.channel;
    if (req.op === 'post' && targetChannel !== null && targetChannel !== channel) {
      throw new AppError('bad_args', `A thread reply must go to its parent's channel (${targetChannel}), not ${channel}`);
    }

    const seq = await deps.redis.incr(deps.keys.seq);
    const base = { seq, channel, key: req.key, message: renderChannelMessage(req.message), ...(req.kind && { kind: req.kind }), ...(req.originAt && { originAt: Math.round(req.originAt) }) };
    // Parsed here too, so nothing is enqueued that the worker would refuse.
    const data = outboxJobSchema.parse(
      req.op === 'update' ? { ...base, op: 'update', ref: req.ref } : { ...base, op: 'post', ...(req.threadOf !== undefined && { threadOf: req.threadOf }) },
    );
    await queue.add(req.op, data, {
      jobId,
      attempts: deps.retry.attempts,
      backoff: { type: BACKOFF_TYPE },
      removeOnComplete: { age: Math.ceil(deps.keepCompletedMs / 1000), count: deps.keepCompletedCount },
      removeOnFail: { age: Math.ceil(deps.keepFailedMs / 1000) },
    });
    await gate.enqueued(channel, jobId, seq);
    // Before the job can run? Not needed: an update that runs before its mark is raised is simply
    // sent, which is what happened before coalescing existed.
    if (req.op === 'update') await raiseMark(deps.redis, deps.keys.latestUpdate(req.ref), seq, deps.keepCompletedMs);
    return { jobId, duplicate: false };
  };
}
