import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Runnable } from '../core/runnable.ts';

// A replica that posts says so this often, for this long: a stopped one is forgotten within the TTL.
const BEAT_MS = 5000;
const TTL_MS = 15_000;
// What a non-posting replica read is good for this long (it asks before every notification).
const CACHE_MS = 2000;

export interface PosterPresence extends Runnable {
  /**
   * Whether this replica may do alert work whose result Slack shows (apply notifications, evaluate
   * rules, escalate): always when it can post; otherwise only while no replica that can is alive,
   * so a shell or a Slack-less instance beside the bot never takes work it cannot show.
   */
  mayClaim(): Promise<boolean>;
}

export const posterKey = (prefix: string) => `${prefix}:alerts:poster`;

/**
 * Replicas with a Slack outbox keep a key alive in Redis; the others look at it. A Redis that does
 * not answer counts as "a poster may be alive": a replica that cannot post then stays out.
 */
export function createPosterPresence(opts: { redis: Redis; keyPrefix: string; posts: boolean; now?: () => number }): PosterPresence {
  const key = posterKey(opts.keyPrefix);
  const now = opts.now ?? Date.now;
  const me = randomUUID();
  let timer: NodeJS.Timeout | null = null;
  let cached: { at: number; alive: boolean } | null = null;
  const beat = () => opts.redis.set(key, me, 'PX', TTL_MS).catch(() => undefined);
  return {
    name: 'alert-poster-presence',
    async mayClaim() {
      if (opts.posts) return true;
      if (cached && now() - cached.at < CACHE_MS) return !cached.alive;
      const alive = await opts.redis.exists(key).then(
        (n) => n > 0,
        () => true,
      );
      cached = { at: now(), alive };
      return !alive;
    },
    async start() {
      if (!opts.posts || timer) return;
      await beat();
      timer = setInterval(() => void beat(), BEAT_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      // Left to expire: another posting replica may have written it since.
    },
  };
}
