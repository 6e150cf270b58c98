import type { Redis } from 'ioredis';
import type { OutboxKeys } from './keys.ts';
import { CLAIM, ENQUEUED, FINISH, HOLD, OLDEST } from './scripts.ts';
import type { OutboxPace } from './types.ts';

/** The answer to "may job J send to its channel now?" */
export type Turn =
  | { kind: 'go' }
  /** Another message is ahead: `rank` messages before this one; the channel may also be held. */
  | { kind: 'behind'; head: string; rank: number; holdMs: number }
  /** This job is next, but Retry-After or the token bucket says wait `ms`. */
  | { kind: 'wait'; ms: number }
  /** Delivered already (this is a re-run after a crash). */
  | { kind: 'done' };

/**
 * Per-channel order, pace and Retry-After, kept in Redis so every replica and every worker slot
 * sees the same line and the same bucket. Each step is one Lua script: atomic, and timed with
 * Redis's clock.
 */
export interface ChannelGate {
  enqueued(channel: string, jobId: string, seq: number): Promise<void>;
  claim(channel: string, jobId: string, seq: number, enqueuedAt: number): Promise<Turn>;
  /** Hold the channel for `ms` (Slack's Retry-After); returns how long it is now held. */
  hold(channel: string, ms: number): Promise<number>;
  /** Take `jobId` out of the channel's line; with `delivered`, remember it was. Returns the next head. */
  finish(channel: string, jobId: string, delivered: boolean): Promise<string | null>;
  isDone(jobId: string): Promise<boolean>;
  oldest(): Promise<{ jobId: string; ageMs: number } | null>;
  /** Drop a job from the age index only (it no longer exists, so its channel is unknown). */
  forgetAge(jobId: string): Promise<void>;
}

export function createChannelGate(redis: Redis, keys: OutboxKeys, pace: OutboxPace, doneTtlMs: number): ChannelGate {
  return {
    async enqueued(channel, jobId, seq) {
      await ENQUEUED.run(redis, [keys.pending(channel), keys.enqueued, keys.done(jobId)], [jobId, seq]);
    },
    async claim(channel, jobId, seq, enqueuedAt) {
      const reply = (await CLAIM.run(
        redis,
        [keys.pending(channel), keys.gate(channel), keys.done(jobId), keys.enqueued],
        [jobId, seq, pace.perSecond, pace.burst, enqueuedAt],
      )) as [number, number?, number?, string?];
      switch (reply[0]) {
        case 0:
          return { kind: 'go' };
        case 1:
          return { kind: 'behind', holdMs: Number(reply[1]), rank: Number(reply[2]), head: String(reply[3]) };
        case 2:
          return { kind: 'wait', ms: Number(reply[1]) };
        default:
          return { kind: 'done' };
      }
    },
    async hold(channel, ms) {
      return Number(await HOLD.run(redis, [keys.gate(channel)], [Math.ceil(ms)]));
    },
    async finish(channel, jobId, delivered) {
      const next = await FINISH.run(redis, [keys.pending(channel), keys.enqueued, keys.done(jobId)], [jobId, delivered ? doneTtlMs : 0]);
      return typeof next === 'string' ? next : null;
    },
    async isDone(jobId) {
      return (await redis.exists(keys.done(jobId))) === 1;
    },
    async oldest() {
      const reply = (await OLDEST.run(redis, [keys.enqueued], [])) as [string, number] | null;
      return reply ? { jobId: reply[0], ageMs: Number(reply[1]) } : null;
    },
    async forgetAge(jobId) {
      await redis.zrem(keys.enqueued, jobId);
    },
  };
}
