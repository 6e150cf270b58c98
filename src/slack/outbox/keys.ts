import { createHash } from 'node:crypto';

/** The BullMQ queue under Vigil's own prefix (never the prefix Vigil inspects). */
export const QUEUE_NAME = 'slack-outbox';

/**
 * The job id for an idempotency key. Hashed because BullMQ rejects ids containing `:` (which keys
 * like `alert:<groupKey>:post` do) and bare integers; the `msg-` prefix rules out the latter.
 */
export function jobIdFor(key: string): string {
  return `msg-${createHash('sha256').update(key).digest('hex')}`;
}

/** Redis keys the outbox keeps beside the queue, all under `<prefix>:outbox:`. */
export interface OutboxKeys {
  /** ZSET jobId → enqueue time (Redis ms) of every undelivered message: the oldest-age gauge. */
  enqueued: string;
  /** ZSET seq → jobId per channel: the channel's delivery order; its head is the one to send. */
  pending(channel: string): string;
  /** HASH per channel: token bucket (`tokens`, `at`) and Retry-After (`hold`, Redis ms). */
  gate(channel: string): string;
  /** Marker of a delivered job, so a job re-run after a crash does not deliver again. */
  done(jobId: string): string;
  /** The seq of the newest update queued for a message (by its key): older ones need not go out. */
  latestUpdate(ref: string): string;
}

export function outboxKeys(prefix: string): OutboxKeys {
  const base = `${prefix}:outbox`;
  return {
    enqueued: `${base}:enqueued`,
    pending: (channel) => `${base}:pending:${channel}`,
    gate: (channel) => `${base}:gate:${channel}`,
    done: (jobId) => `${base}:done:${jobId}`,
    // Hashed like job ids: message keys may hold `:` and be long.
    latestUpdate: (ref) => `${base}:latest-update:${jobIdFor(ref)}`,
  };
}
