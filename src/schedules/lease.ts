import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Redis lease: one key, held by whoever set it first, until it expires or its holder releases it.
 * The value is a random token, so a holder only ever releases or extends its own lease, never one
 * another replica took after this one's expired. Redis errors reach the caller (it decides whether
 * a tick is skipped or a command fails).
 */
export interface Lease {
  readonly key: string;
  /** SET key token NX PX ttlMs: the token when this call took the lease, null when someone holds it. */
  tryAcquire(ttlMs: number): Promise<string | null>;
  /** Delete the lease if `token` still holds it; false when it had expired or is someone else's. */
  release(token: string): Promise<boolean>;
  /** Give the lease `ttlMs` more from now if `token` still holds it; false when it does not. */
  extend(token: string, ttlMs: number): Promise<boolean>;
}

// Compare-and-act in one script: a GET then DEL from the client could delete a lease another
// replica took between the two commands. Plain EVAL: these run once per tick at most, and the
// connection is shared, so no defineCommand on somebody else's client.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

export function createLease(redis: Redis, key: string): Lease {
  return {
    key,
    async tryAcquire(ttlMs) {
      if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new Error(`lease ${key}: ttl must be a positive integer of ms (got ${ttlMs})`);
      const token = randomUUID();
      const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
      return ok === 'OK' ? token : null;
    },
    async release(token) {
      return (await redis.eval(RELEASE, 1, key, token)) === 1;
    },
    async extend(token, ttlMs) {
      if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new Error(`lease ${key}: ttl must be a positive integer of ms (got ${ttlMs})`);
      return (await redis.eval(EXTEND, 1, key, token, ttlMs)) === 1;
    },
  };
}

// Raise the mark only forward, atomically: the caller claimed `value` when it was above the mark.
const CLAIM_ABOVE = `local mark = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > mark then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

/**
 * Claim `value` (a tick's scheduled second) if it is above the highest value claimed under `key`
 * so far. One key per schedule instead of one per tick: a replica that reaches a tick late (clock
 * behind, timer late) finds the mark at or past it and skips, however long ago it was claimed.
 */
export async function claimAbove(redis: Redis, key: string, value: number, ttlMs: number): Promise<boolean> {
  return (await redis.eval(CLAIM_ABOVE, 1, key, value, ttlMs)) === 1;
}
