import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run with EVALSHA, falling back to EVAL when Redis does not know it yet (first use,
 * or after a restart / SCRIPT FLUSH). Not `defineCommand`: the connection is shared with BullMQ and
 * the rest of Vigil, and we do not add methods to somebody else's object.
 */
export interface LuaScript {
  run(redis: Redis, keys: string[], args: Array<string | number>): Promise<unknown>;
}

export function luaScript(source: string): LuaScript {
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    async run(redis, keys, args) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        return redis.eval(source, keys.length, ...keys, ...args);
      }
    },
  };
}

// Every script reads the clock with TIME, so replicas whose clocks disagree still share one bucket.
const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Whose turn it is in a channel, and whether it may send now.
 * KEYS: pending ZSET, gate HASH, done marker, enqueued ZSET
 * ARGV: jobId, seq, perSecond, burst, enqueuedAt (ms, only used to self-heal the enqueued ZSET)
 * Returns {0} go (a token was taken) · {1, holdMs, rank, head} not this job's turn ·
 *         {2, waitMs} this job's turn, but wait (Retry-After or an empty bucket) · {3} already delivered
 */
export const CLAIM = luaScript(`${NOW_MS}
if redis.call('EXISTS', KEYS[3]) == 1 then return {3} end
-- Self-heal: a crash between queue.add and the ZADD at enqueue leaves the job out of the order.
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[4], 'NX', ARGV[5], ARGV[1])
local hold = math.max(0, (tonumber(redis.call('HGET', KEYS[2], 'hold')) or 0) - now)
local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
if head ~= ARGV[1] then
  return {1, hold, redis.call('ZRANK', KEYS[1], ARGV[1]), head}
end
if hold > 0 then return {2, hold} end
local rate = tonumber(ARGV[3])
local burst = tonumber(ARGV[4])
local tokens = tonumber(redis.call('HGET', KEYS[2], 'tokens')) or burst
local at = tonumber(redis.call('HGET', KEYS[2], 'at')) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local wait = 0
if tokens < 1 then
  wait = math.ceil((1 - tokens) * 1000 / rate)
else
  tokens = tokens - 1
end
redis.call('HSET', KEYS[2], 'tokens', tostring(tokens), 'at', now)
-- An idle channel's bucket is full again after burst/rate seconds; then the hash may go.
redis.call('PEXPIRE', KEYS[2], math.ceil(burst * 1000 / rate) + 60000)
if wait > 0 then return {2, wait} end
return {0}
`);

/**
 * Slack answered 429: nobody sends to the channel before Retry-After has passed.
 * KEYS: gate HASH · ARGV: milliseconds · Returns the milliseconds the channel is now held for.
 */
export const HOLD = luaScript(`${NOW_MS}
local untilMs = math.max(now + tonumber(ARGV[1]), tonumber(redis.call('HGET', KEYS[1], 'hold')) or 0)
redis.call('HSET', KEYS[1], 'hold', untilMs)
if redis.call('PTTL', KEYS[1]) < untilMs - now + 60000 then redis.call('PEXPIRE', KEYS[1], untilMs - now + 60000) end
return untilMs - now
`);

/**
 * Record an enqueued message in its channel's order and in the age index. NX: sending a key twice
 * never moves the first one back in line. A worker may have picked the job up, put it in line
 * itself and delivered it already: then it must not come back as a head nobody will send.
 * KEYS: pending ZSET, enqueued ZSET, done marker · ARGV: jobId, seq
 */
export const ENQUEUED = luaScript(`${NOW_MS}
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], 'NX', now, ARGV[1])
return 1
`);

/**
 * A message leaves its channel's line: delivered (then a done marker, so a re-run after a crash
 * delivers nothing) or given up. Returns the channel's next head, if any.
 * KEYS: pending ZSET, enqueued ZSET, done marker · ARGV: jobId, done-marker TTL ms (0: none)
 */
export const FINISH = luaScript(`
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[3], '1', 'PX', ARGV[2]) end
return redis.call('ZRANGE', KEYS[1], 0, 0)[1]
`);

/**
 * The oldest undelivered message and its age.
 * KEYS: enqueued ZSET · Returns {jobId, ageMs} or nil.
 */
export const OLDEST = luaScript(`${NOW_MS}
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return nil end
return {first[1], math.max(0, now - tonumber(first[2]))}
`);
