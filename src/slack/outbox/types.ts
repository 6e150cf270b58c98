import { z } from 'zod';
import type { ChannelMessage } from '../../core/channel-message.ts';
import type { Block } from '../blocks.ts';
import type { Queryable } from '../../db/queryable.ts';

/** A message as Slack takes it (rendered by the outbox from a ChannelMessage); `text` is the notification fallback. */
export interface OutboxMessage {
  text: string;
  blocks?: Block[];
}

/**
 * One logical message, transport-neutral: the outbox renders it. `key` is the caller's idempotency
 * key (e.g. `alert:<groupKey>:post`): the same key is delivered at most once however often it is
 * sent or retried.
 */
export type OutboxRequest = (
  | { op: 'post'; key: string; channel: string; message: ChannelMessage; threadOf?: string /* key of the parent message */ }
  | { op: 'update'; key: string; ref: string /* key of the posted message */; message: ChannelMessage }
) & {
  /** What the message is about (`alert`, `approval` …): a label of the write and latency metrics. */
  kind?: string;
  /** When what this message reports happened (ms), e.g. an alert's intake: the latency metric's start. */
  originAt?: number;
};

export interface MessageRef {
  channel: string;
  ts: string;
}

export interface Outbox {
  /**
   * Put a message in line. `db`: the caller's connection (in its transaction) for the outbox's
   * Postgres lookups, so a caller holding a connection never asks the pool for a second one.
   */
  send(req: OutboxRequest, db?: Queryable): Promise<{ jobId: string; duplicate: boolean }>;
  /** The (channel, ts) of a posted message, or null. */
  messageRef(key: string): Promise<MessageRef | null>;
  /**
   * Compare the recorded messages with Redis: put back in line what Redis lost, close what
   * finished. Only rows older than `olderThanMs` (default 10 s) are looked at.
   */
  reconcile(olderThanMs?: number): Promise<{ requeued: number; finished: number; pruned: number }>;
  /** Only the bot starts workers; the CLI only enqueues. */
  startWorker(): Promise<void>;
  /** Stops the worker gracefully (active deliveries finish), closes the queue; the connection stays open. */
  close(): Promise<void>;
}

/** Per-channel pacing: a token bucket refilled at `perSecond`, holding at most `burst` tokens. */
export interface OutboxPace {
  perSecond: number;
  burst: number;
}

/** Retries of 5xx and network errors: `attempts` in all, capped exponential backoff with jitter. */
export interface OutboxRetry {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

// Slack allows about 1 chat.postMessage per second per channel with short bursts: stay under it.
export const DEFAULT_PACE: OutboxPace = { perSecond: 0.9, burst: 3 };
// 1 s, 2 s, 4 s, then every 5 s at most, so delivery resumes within seconds of Slack recovering;
// 300 attempts keep trying for about 19 minutes (12 at the least, with jitter) before giving up.
export const DEFAULT_RETRY: OutboxRetry = { attempts: 300, baseDelayMs: 1000, maxDelayMs: 5000 };

/** Where a message is delivered once its turn comes; also the `method` label of the write metric. */
export type SlackWriteMethod = 'chat.postMessage' | 'chat.update';

const kind = z.string().regex(/^[a-z][a-z0-9_-]{0,30}$/).default('message');
const originAt = z.number().int().positive().optional();

const message = z.object({
  text: z.string(),
  blocks: z.array(z.record(z.string(), z.unknown())).optional(),
});

/**
 * Job data as it sits in Redis. Validated by the worker because anything in Redis may have been
 * written by another version of Vigil, or by hand.
 */
// Sent with a row in the caller's transaction: delivered only once that row is visible (committed),
// never for a transaction that rolled back. Absent on jobs queued by a Vigil before this check.
const committedRow = z.literal(true).optional();

export const outboxJobSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('post'),
    seq: z.number().int().positive(),
    channel: z.string().min(1),
    key: z.string().min(1),
    threadOf: z.string().min(1).optional(),
    message,
    kind,
    originAt,
    // Set right after Slack accepted the post, before Postgres records it: a retry after a failed
    // record then records instead of posting again.
    posted: z.object({ ts: z.string(), threadTs: z.string().optional() }).optional(),
    // Put back in line after Redis lost it: it may have been posted already, so look first.
    recheck: z.boolean().optional(),
    committedRow,
  }),
  z.object({
    op: z.literal('update'),
    seq: z.number().int().positive(),
    // The channel of the message being updated: the update waits its turn in that channel.
    channel: z.string().min(1),
    key: z.string().min(1),
    ref: z.string().min(1),
    message,
    kind,
    originAt,
    committedRow,
  }),
]);

export type OutboxJob = z.infer<typeof outboxJobSchema>;
