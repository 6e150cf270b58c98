import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { withTimeout } from '../core/timeout.ts';
import { MAX_SKEW_SECONDS } from './verify.ts';

/**
 * A signed Slack request is valid for five minutes either side of its timestamp, so a captured
 * one could be sent again and run again. The guard remembers each signature until its window
 * closes: the first time it is seen it runs, any later time it is answered and does nothing.
 * Slack's own retries of an event carry a new timestamp and signature: they are new requests here
 * (Bolt sees them with their retry number).
 */
export interface ReplayGuard {
  /** True the first time this signature is seen within its window; false for a replay. */
  firstSeen(signature: string, timestampSeconds: number): Promise<boolean>;
}

export interface ReplayGuardOptions {
  /** Shared by every replica; null or failing (down, slow) → this process's memory only. */
  redis: Redis | null;
  /** Vigil's own key prefix (`state.queuePrefix`), never the prefix it inspects. */
  keyPrefix: string;
  registry?: Registry | undefined;
  now?: () => number;
  /** Signatures remembered in memory (the fallback); the oldest are forgotten first. */
  memoryEntries?: number;
  /** A Redis slower than this costs the ack more than the check is worth: memory decides. */
  redisTimeoutMs?: number;
}

export function createReplayGuard(opts: ReplayGuardOptions): ReplayGuard {
  const now = opts.now ?? Date.now;
  const memory = createSeenMemory(opts.memoryEntries ?? 20_000);
  const replays = opts.registry
    ? new Counter({
        name: 'vigil_slack_replays_total',
        help: 'Signed Slack requests seen before within their 5-minute window, answered without running; by where they were recognised',
        labelNames: ['store'] as const,
        registers: [opts.registry],
      })
    : null;
  return {
    async firstSeen(signature, timestampSeconds) {
      const at = now();
      // Until no clock within the allowed skew would accept this signature any more.
      const ttlMs = Math.max(1000, (timestampSeconds + MAX_SKEW_SECONDS) * 1000 - at + 1000);
      const inMemory = memory.remember(signature, at + ttlMs, at);
      let first = inMemory;
      let store: 'redis' | 'memory' = 'memory';
      redis: if (opts.redis) {
        try {
          const set = await withTimeout(opts.redis.set(`${opts.keyPrefix}:slack-seen:${signature}`, '1', 'PX', ttlMs, 'NX'), opts.redisTimeoutMs ?? 250, 'Redis');
          // Memory is the authority for what this replica saw: Redis restarted without
          // persistence (or flushed) forgets, and must not turn a replay into a first sight.
          if (!inMemory) break redis;
          first = set === 'OK';
          store = 'redis';
        } catch {
          // Redis down or slow: this replica's memory still catches replays sent to it.
        }
      }
      if (!first) replays?.inc({ store });
      return first;
    },
  };
}

/** Signatures with their expiry, oldest first (a Map keeps insertion order), at most `max`. */
function createSeenMemory(max: number) {
  const seen = new Map<string, number>();
  return {
    /** Record `key` until `expiresAt`; true when it was not already there (unexpired). */
    remember(key: string, expiresAt: number, at: number): boolean {
      const existing = seen.get(key);
      if (existing !== undefined && existing > at) return false;
      seen.delete(key);
      seen.set(key, expiresAt);
      // Drop expired entries from the old end, then the oldest beyond the cap.
      for (const [k, exp] of seen) {
        if (exp > at && seen.size <= max) break;
        seen.delete(k);
      }
      return true;
    },
  };
}
