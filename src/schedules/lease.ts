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
