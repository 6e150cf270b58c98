import { formatMiB } from '../core/format.ts';
import { elapsedMs } from '../core/timeout.ts';
import type { Measurement } from './reading.ts';
import { parseRedisInfo, redisFacts, redisValues } from './redis-info.ts';
import { shown, type ProbeRegistration } from './registration.ts';
import type { ThresholdRule } from './thresholds.ts';

export { parseRedisInfo } from './redis-info.ts';

/** The two commands the probe sends; an ioredis client satisfies it, a test may pass a fake. */
export interface RedisInfoSource {
  ping(): Promise<string>;
  info(): Promise<string>;
}

/** A measurement plus the parsed INFO it came from, for /redis's keyspace and replica lines. */
export interface RedisInfoReading {
  measurement: Measurement;
  info: Map<string, string>;
}

/**
 * PING for the round trip (`round_trip_ms`), then one INFO: every value `redisValues` lists
 * (memory, evictions, clients, hit ratio, persistence, replication). Facts: `version`,
 * `eviction_policy`, `role`, persistence and link states.
 */
export async function readRedisInfo(redis: RedisInfoSource, now: () => number = Date.now): Promise<RedisInfoReading> {
  const start = performance.now();
  await redis.ping();
  const roundTripMs = elapsedMs(start);
  const info = parseRedisInfo(await redis.info());
  return { measurement: { values: { round_trip_ms: roundTripMs, ...redisValues(info, now()) }, facts: redisFacts(info) }, info };
}

export async function measureRedis(redis: RedisInfoSource, now: () => number = Date.now): Promise<Measurement> {
  return (await readRedisInfo(redis, now)).measurement;
}

const MIB = 1024 * 1024;

/** /health's Redis line and /redis judge by these, so the two never disagree. */
export const REDIS_RULES: readonly ThresholdRule[] = [
  { measure: 'memory_used_bytes', of: 'memory_max_bytes', warnAt: 0.8, failAt: 0.95, label: 'memory', unit: 'bytes' },
  // BullMQ loses jobs silently when Redis evicts its keys, so anything but noeviction is a warning.
  { measure: 'can_evict', warnAt: 1, reason: 'maxmemory-policy {eviction_policy} can evict BullMQ jobs' },
  // 100 MiB is Redis's own active-defrag-ignore-bytes: below it a high ratio is noise of a small dataset.
  { measure: 'memory_fragmentation_ratio', warnAt: 1.5, label: 'fragmentation ratio', onlyWhen: { measure: 'memory_fragmentation_bytes', atLeast: 100 * MIB } },
  // Both make Redis refuse writes (stop-writes-on-bgsave-error, the default; an AOF that cannot be written).
  { measure: 'rdb_last_bgsave_failed', warnAt: 1, reason: 'the last RDB save failed ({rdb_last_bgsave_status}): Redis may refuse writes' },
  { measure: 'aof_last_write_failed', warnAt: 1, reason: 'the last AOF write failed ({aof_last_write_status}): Redis refuses writes until one succeeds' },
  { measure: 'master_link_down', warnAt: 1, reason: 'replica cut off from its master {master} (link {master_link_status})' },
];

function memoryText(used: number | undefined, max: number | undefined): string {
  const usedText = used === undefined ? '?' : formatMiB(used);
  return max !== undefined && max > 0 ? `${usedText} of ${formatMiB(max)}` : `${usedText} (no maxmemory)`;
}

export const redisProbe: ProbeRegistration = {
  kind: 'redis',
  heading: 'Redis',
  layout: 'line',
  targets: ({ redis, missing }) => [
    redis
      ? { name: 'Redis', measure: () => measureRedis(redis), rules: REDIS_RULES }
      : { name: 'Redis', unavailable: missing.redis ?? 'not configured' },
  ],
  summarize: ({ values: v }) =>
    `${shown(v.round_trip_ms)} ms · ${memoryText(v.memory_used_bytes, v.memory_max_bytes)} · ${shown(v.clients)} clients`,
  details: ({ values: v, facts }) => [
    { label: 'Round trip', value: `${shown(v.round_trip_ms)} ms` },
    { label: 'Version', value: facts.version ?? 'unknown' },
    { label: 'Memory', value: memoryText(v.memory_used_bytes, v.memory_max_bytes) },
    { label: 'Eviction policy', value: facts.eviction_policy ?? 'unknown' },
    { label: 'Clients', value: `${shown(v.clients)} connected, ${shown(v.blocked_clients)} blocked` },
    { label: 'Ops/s', value: shown(v.ops_per_sec) },
  ],
  // Unreachable Redis: /redis would only say the same again.
  followUp: (r) => (r.error === undefined ? { label: 'Inspect Redis', command: '/redis' } : null),
};
