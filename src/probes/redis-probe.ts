import { formatMiB } from '../core/format.ts';
import { elapsedMs } from '../core/timeout.ts';
import { finiteValues, type Measurement } from './reading.ts';
import { shown, type ProbeRegistration } from './registration.ts';
import type { ThresholdRule } from './thresholds.ts';

/** The two commands the probe sends; an ioredis client satisfies it, a test may pass a fake. */
export interface RedisInfoSource {
  ping(): Promise<string>;
  info(): Promise<string>;
}

/** Parse `INFO` output (`key:value` lines, `#` section headers) into a map. */
export function parseRedisInfo(info: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/**
 * PING for the round trip, then INFO. Values: `round_trip_ms`, `memory_used_bytes`,
 * `memory_max_bytes` (0 = no limit), `clients`, `blocked_clients`, `ops_per_sec`, `can_evict` (1 when
 * a memory limit and an evicting policy mean Redis may drop BullMQ keys). Facts: `version`,
 * `eviction_policy`.
 */
export async function measureRedis(redis: RedisInfoSource): Promise<Measurement> {
  const start = performance.now();
  await redis.ping();
  const roundTripMs = elapsedMs(start);
  const info = parseRedisInfo(await redis.info());
  const number = (key: string): number | null => (info.has(key) ? Number(info.get(key)) : null);
  const max = number('maxmemory') ?? 0;
  const policy = info.get('maxmemory_policy') ?? 'unknown';
  return {
    values: finiteValues({
      round_trip_ms: roundTripMs,
      memory_used_bytes: number('used_memory'),
      memory_max_bytes: max,
      clients: number('connected_clients'),
      blocked_clients: number('blocked_clients'),
      ops_per_sec: number('instantaneous_ops_per_sec'),
      can_evict: max > 0 && policy !== 'noeviction' ? 1 : 0,
    }),
    facts: { version: info.get('redis_version') ?? 'unknown', eviction_policy: policy },
  };
}

export const REDIS_RULES: readonly ThresholdRule[] = [
  { measure: 'memory_used_bytes', of: 'memory_max_bytes', warnAt: 0.8, failAt: 0.95, label: 'memory', unit: 'bytes' },
  // BullMQ loses jobs silently when Redis evicts its keys, so anything but noeviction is a warning.
  { measure: 'can_evict', warnAt: 1, reason: 'maxmemory-policy {eviction_policy} can evict BullMQ jobs' },
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
};
