import type { Redis } from 'ioredis';

// Raise the mark only forward, atomically.
const RAISE = `local mark = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > mark then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

/**
 * Set the number under `key` to `value` if `value` is above it (or nothing is there); true when it
 * was raised. One key remembers "the highest so far" for many writers at once: the last tick a
 * schedule claimed, the newest queued update of a Slack message.
 */
export async function raiseMark(redis: Redis, key: string, value: number, ttlMs: number): Promise<boolean> {
  return (await redis.eval(RAISE, 1, key, value, ttlMs)) === 1;
}
