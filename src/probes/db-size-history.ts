import type { Redis } from 'ioredis';
import { z } from 'zod';

/** The size /db last kept for a database: what "growth since" is measured from. */
export interface SizeReading {
  bytes: number;
  at: number;
}

export interface SizeHistory {
  /** The kept reading, then this one kept instead once the kept one is an hour old (or none is). */
  compare(database: string, bytes: number, now: number): Promise<SizeReading | null>;
}

// Kept an hour: /db asked twice a minute apart would otherwise always say "+0 B".
const KEEP_MS = 3600_000;
const reading = z.object({ bytes: z.number().nonnegative(), at: z.number().int().positive() });

/**
 * In Vigil's own Redis keys (`<state.queuePrefix>:db-size:<database>`, never under the prefix it
 * inspects), expiring after 30 days. Redis away: no comparison, and /db still answers.
 */
export function createSizeHistory(redis: Redis, prefix: string): SizeHistory {
  return {
    async compare(database, bytes, now) {
      const key = `${prefix}:db-size:${database}`;
      try {
        const raw = await redis.get(key);
        const parsed = raw === null ? null : reading.safeParse(JSON.parse(raw));
        const kept = parsed?.success ? parsed.data : null;
        if (!kept || now - kept.at >= KEEP_MS) await redis.set(key, JSON.stringify({ bytes, at: now }), 'EX', 30 * 86_400);
        return kept;
      } catch {
        return null; // said by /health and /redis; the size itself is still shown
      }
    },
  };
}
