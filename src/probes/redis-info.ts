import { finiteValues } from './reading.ts';

/**
 * What Redis's `INFO` (the default sections) says, as numbers a threshold or an alert rule can
 * compare and facts a person reads. Pure: the Redis probe, /health and /redis all derive their
 * readings from one parse of one INFO reply.
 */

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

/** A number from INFO, or null when the line is absent or not a number (older servers, a replica's fields on a master). */
function numberOf(info: Map<string, string>, key: string): number | null {
  const raw = info.get(key);
  if (raw === undefined || raw.trim() === '') return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

/** `1` when the condition holds, `0` when not, null when INFO did not say. */
function flag(known: boolean, holds: boolean): number | null {
  return known ? (holds ? 1 : 0) : null;
}

/**
 * Every number the probe reports, by name (the names alert rules use):
 * - `memory_used_bytes`, `memory_max_bytes` (0 = no limit), `memory_peak_bytes`, `memory_rss_bytes`,
 *   `memory_fragmentation_ratio`, `memory_fragmentation_bytes` (RSS beyond what Redis uses);
 * - `can_evict` (1 when a limit and an evicting policy mean Redis may drop BullMQ keys), `evicted_keys`;
 * - `clients`, `blocked_clients`, `ops_per_sec`;
 * - `keyspace_hits`, `keyspace_misses`, `keyspace_hit_ratio` (hits / lookups; absent before the first lookup), `keys` (all databases);
 * - `rdb_last_save_age_seconds` (by Redis's own clock when it says), `rdb_changes_since_last_save`,
 *   `rdb_last_bgsave_failed`, `aof_enabled`, `aof_last_write_failed` (0/1);
 * - `connected_replicas`, `is_replica`; on a replica `master_link_down` (0/1) and `master_last_io_seconds`;
 * - `uptime_seconds`. The counters (evictions, hits) count since Redis started or CONFIG RESETSTAT.
 */
export function redisValues(info: Map<string, string>, nowMs: number): Record<string, number> {
  const n = (key: string) => numberOf(info, key);
  const max = n('maxmemory') ?? 0;
  const policy = info.get('maxmemory_policy');
  const used = n('used_memory');
  const rss = n('used_memory_rss');
  const hits = n('keyspace_hits');
  const misses = n('keyspace_misses');
  const lookups = hits !== null && misses !== null ? hits + misses : 0;
  // Redis's clock, not ours: a save age must not grow with the skew between two machines.
  const serverUsec = n('server_time_usec');
  const serverNowS = serverUsec !== null ? serverUsec / 1e6 : nowMs / 1000;
  const lastSave = n('rdb_last_save_time');
  const replica = info.has('role') ? info.get('role') === 'slave' : null;
  const lastIo = n('master_last_io_seconds_ago');
  const bgsave = info.get('rdb_last_bgsave_status');
  const aofWrite = info.get('aof_last_write_status');
  return finiteValues({
    memory_used_bytes: used,
    memory_max_bytes: max,
    memory_peak_bytes: n('used_memory_peak'),
    memory_rss_bytes: rss,
    memory_fragmentation_ratio: n('mem_fragmentation_ratio'),
    memory_fragmentation_bytes: n('mem_fragmentation_bytes') ?? (rss !== null && used !== null ? rss - used : null),
    can_evict: max > 0 && policy !== 'noeviction' ? 1 : 0,
    evicted_keys: n('evicted_keys'),
    clients: n('connected_clients'),
    blocked_clients: n('blocked_clients'),
    ops_per_sec: n('instantaneous_ops_per_sec'),
    keyspace_hits: hits,
    keyspace_misses: misses,
    keyspace_hit_ratio: lookups > 0 && hits !== null ? hits / lookups : null,
    keys: keyspaceOf(info).reduce((sum, db) => sum + db.keys, 0),
    rdb_last_save_age_seconds: lastSave !== null && lastSave > 0 ? Math.max(0, Math.round(serverNowS - lastSave)) : null,
    rdb_changes_since_last_save: n('rdb_changes_since_last_save'),
    rdb_last_bgsave_failed: flag(bgsave !== undefined, bgsave !== 'ok'),
    aof_enabled: n('aof_enabled'),
    aof_last_write_failed: flag(aofWrite !== undefined, aofWrite !== 'ok'),
    connected_replicas: n('connected_slaves'),
    is_replica: flag(replica !== null, replica === true),
    master_link_down: replica ? flag(info.has('master_link_status'), info.get('master_link_status') !== 'up') : null,
    // -1 until the replica has heard from its master at all.
    master_last_io_seconds: replica && lastIo !== null && lastIo >= 0 ? lastIo : null,
    uptime_seconds: n('uptime_in_seconds'),
  });
}

/** Facts for people (never compared): version, eviction policy, role, persistence and link states. */
export function redisFacts(info: Map<string, string>): Record<string, string> {
  const facts: Record<string, string> = {
    version: info.get('redis_version') ?? 'unknown',
    eviction_policy: info.get('maxmemory_policy') ?? 'unknown',
  };
  const role = info.get('role');
  // Redis says "slave"; people and current Redis docs say replica.
  if (role !== undefined) facts.role = role === 'slave' ? 'replica' : role;
  for (const key of ['rdb_last_bgsave_status', 'aof_last_write_status', 'master_link_status'] as const) {
    const value = info.get(key);
    if (value !== undefined) facts[key] = value;
  }
  if (role === 'slave' && info.has('master_host')) facts.master = `${info.get('master_host') ?? '?'}:${info.get('master_port') ?? '?'}`;
  return facts;
}

export interface KeyspaceDb {
  db: number;
  keys: number;
  expires: number;
  avgTtlMs: number;
}

/** The `db0:keys=2,expires=0,avg_ttl=0` lines, by database number. */
export function keyspaceOf(info: Map<string, string>): KeyspaceDb[] {
  const dbs: KeyspaceDb[] = [];
  for (const [key, value] of info) {
    const db = /^db(\d+)$/.exec(key);
    if (!db) continue;
    const parts = fieldsOf(value);
    const count = (name: string) => Number(parts.get(name) ?? 0) || 0;
    dbs.push({ db: Number(db[1]), keys: count('keys'), expires: count('expires'), avgTtlMs: count('avg_ttl') });
  }
  return dbs.sort((a, b) => a.db - b.db);
}

export interface ReplicaLink {
  address: string;
  state: string;
  /** Seconds since the replica last acknowledged, as its master counts them. */
  lagSeconds: number | null;
}

/** A master's `slave0:ip=…,port=…,state=online,offset=…,lag=0` lines. */
export function replicasOf(info: Map<string, string>): ReplicaLink[] {
  const replicas: ReplicaLink[] = [];
  for (const [key, value] of info) {
    if (!/^slave\d+$/.test(key)) continue;
    const fields = fieldsOf(value);
    const lag = fields.has('lag') ? Number(fields.get('lag')) : NaN;
    replicas.push({
      address: `${fields.get('ip') ?? '?'}:${fields.get('port') ?? '?'}`,
      state: fields.get('state') ?? 'unknown',
      lagSeconds: Number.isFinite(lag) ? lag : null,
    });
  }
  return replicas;
}

/** `a=1,b=x` as a map of strings. */
function fieldsOf(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of value.split(',')) {
    const eq = kv.indexOf('=');
    if (eq > 0) out.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return out;
}
