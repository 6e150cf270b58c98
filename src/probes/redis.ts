import type { Redis } from 'ioredis';
import { usageStatus, type CheckOutcome } from './check.ts';
import { elapsedMs } from '../core/timeout.ts';
import type { Field, Status } from '../core/reply.ts';

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

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export async function probeRedis(redis: Redis): Promise<CheckOutcome> {
  const start = performance.now();
  await redis.ping();
  const roundTripMs = elapsedMs(start);
  const info = parseRedisInfo(await redis.info());
  const used = Number(info.get('used_memory') ?? 0);
  const max = Number(info.get('maxmemory') ?? 0);
  const policy = info.get('maxmemory_policy') ?? 'unknown';
  const clients = info.get('connected_clients') ?? '?';
  // BullMQ loses jobs silently if Redis may evict keys, so anything but noeviction is a warning.
  const evicts = max > 0 && policy !== 'noeviction';
  const memoryStatus = usageStatus(used, max);
  const status: Status = memoryStatus === 'ok' && evicts ? 'warn' : memoryStatus;
  const memory = max > 0 ? `${mib(used)} of ${mib(max)}` : `${mib(used)} (no maxmemory)`;
  const details: Field[] = [
    { label: 'Round trip', value: `${roundTripMs} ms` },
    { label: 'Version', value: info.get('redis_version') ?? 'unknown' },
    { label: 'Memory', value: memory },
    { label: 'Eviction policy', value: policy },
    { label: 'Clients', value: `${clients} connected, ${info.get('blocked_clients') ?? '?'} blocked` },
    { label: 'Ops/s', value: info.get('instantaneous_ops_per_sec') ?? '?' },
  ];
  const warning = evicts ? ` · maxmemory-policy ${policy} can evict BullMQ jobs` : '';
  return {
    status,
    summary: `${roundTripMs} ms · ${memory} · ${clients} clients${warning}`,
    details,
  };
}
