import { formatBytes, formatDuration, formatPercent } from '../core/format.ts';
import { worstStatus, type Field, type Section, type Status } from '../core/reply.ts';
import type { Breach, Measurement } from './reading.ts';
import { keyspaceOf, replicasOf, type KeyspaceDb, type ReplicaLink } from './redis-info.ts';
import { commandLine, MAX_ARG_CHARS, type Slowlog } from './redis-slowlog.ts';
import { shown } from './registration.ts';

/**
 * /redis's sections, from one INFO and one SLOWLOG: what each number means to a person on call.
 * Each section carries the worst status of the rules on its own measures, so the part that is not
 * ok stands out.
 */

/** Which section a rule's measure belongs to. */
const SECTION_OF: Record<string, string> = {
  memory_used_bytes: 'Memory',
  can_evict: 'Memory',
  memory_fragmentation_ratio: 'Memory',
  rdb_last_bgsave_failed: 'Persistence',
  aof_last_write_failed: 'Persistence',
  master_link_down: 'Replication',
};

export interface SlowlogRow {
  id: number;
  /** ISO time, by Redis's clock. */
  at: string;
  ageSeconds: number;
  durationMs: number;
  args: string[];
  client: string;
  clientName: string;
}

export interface RedisDetails {
  keyspace: KeyspaceDb[];
  replicas: ReplicaLink[];
  slowlog: SlowlogRow[];
  /** Redis's refusal to show the slow log (NOPERM), when it refused. */
  slowlogRefused?: string;
}

/** The keyspace, replicas and slow log as data; ages by Redis's clock when INFO gives it. */
export function redisDetails(info: Map<string, string>, slowlog: Slowlog, nowMs: number): RedisDetails {
  const usec = Number(info.get('server_time_usec'));
  const redisNowS = Number.isFinite(usec) && usec > 0 ? usec / 1e6 : nowMs / 1000;
  return {
    keyspace: keyspaceOf(info),
    replicas: replicasOf(info),
    slowlog: slowlog.entries.map((e) => ({
      id: e.id,
      at: new Date(e.unixSeconds * 1000).toISOString(),
      ageSeconds: Math.max(0, Math.round(redisNowS - e.unixSeconds)),
      durationMs: e.durationMs,
      args: e.args,
      client: e.client,
      clientName: e.clientName,
    })),
    ...(slowlog.refused === undefined ? {} : { slowlogRefused: slowlog.refused }),
  };
}

export function redisSections(m: Measurement, breaches: Breach[], details: RedisDetails): Section[] {
  const v = m.values;
  const statusOf = (heading: string): Status =>
    worstStatus(breaches.filter((b) => b.measure !== undefined && SECTION_OF[b.measure] === heading).map((b) => b.status));
  return [
    { heading: 'Memory', status: statusOf('Memory'), fields: memoryFields(m) },
    {
      heading: 'Clients and traffic',
      status: 'ok',
      fields: [
        { label: 'Clients', value: `${shown(v.clients)} connected, ${shown(v.blocked_clients)} blocked` },
        { label: 'Ops/s', value: shown(v.ops_per_sec) },
        { label: 'Keyspace hit ratio', value: hitRatioText(v) },
      ],
    },
    { heading: 'Persistence', status: statusOf('Persistence'), fields: persistenceFields(m) },
    { heading: 'Replication', status: statusOf('Replication'), fields: replicationFields(m, details.replicas) },
    keyspaceSection(details.keyspace),
    slowlogSection(details.slowlog, details.slowlogRefused),
  ];
}

function memoryFields({ values: v, facts }: Measurement): Field[] {
  const used = v.memory_used_bytes;
  const max = v.memory_max_bytes ?? 0;
  const usedText = used === undefined ? '?' : formatBytes(used);
  const ratio = v.memory_fragmentation_ratio;
  const beyond = v.memory_fragmentation_bytes;
  return [
    { label: 'Used', value: max > 0 && used !== undefined ? `${usedText} of ${formatBytes(max)} (${formatPercent(used / max)})` : `${usedText} (no maxmemory)` },
    { label: 'Peak', value: v.memory_peak_bytes === undefined ? '?' : formatBytes(v.memory_peak_bytes) },
    {
      label: 'Fragmentation',
      value: ratio === undefined ? '?' : `${ratio.toFixed(2)}${beyond !== undefined && beyond > 0 ? ` (${formatBytes(beyond)} RSS beyond used)` : ''}`,
    },
    { label: 'Eviction', value: `${facts.eviction_policy ?? 'unknown'}, ${shown(v.evicted_keys)} keys evicted` },
  ];
}

function hitRatioText(v: Record<string, number>): string {
  const counts = `hits ${shown(v.keyspace_hits)}, misses ${shown(v.keyspace_misses)}`;
  return v.keyspace_hit_ratio === undefined ? `no lookups yet (${counts})` : `${formatPercent(v.keyspace_hit_ratio)} (${counts})`;
}

function persistenceFields({ values: v, facts }: Measurement): Field[] {
  const age = v.rdb_last_save_age_seconds;
  const changes = v.rdb_changes_since_last_save;
  return [
    {
      label: 'RDB',
      value: `last save ${age === undefined ? '?' : `${formatDuration(age)} ago`}, ${facts.rdb_last_bgsave_status ?? '?'}${changes === undefined ? '' : `; ${changes} changes since`}`,
    },
    { label: 'AOF', value: v.aof_enabled === 1 ? `on, last write ${facts.aof_last_write_status ?? '?'}` : 'off' },
  ];
}

function replicationFields({ values: v, facts }: Measurement, replicas: ReplicaLink[]): Field[] {
  const role: Field = { label: 'Role', value: facts.role ?? 'unknown' };
  if (v.is_replica === 1) {
    const io = v.master_last_io_seconds;
    return [
      role,
      { label: 'Master', value: facts.master ?? '?' },
      { label: 'Link', value: `${facts.master_link_status ?? '?'}${io === undefined ? '' : `, last heard from ${formatDuration(io)} ago`}` },
    ];
  }
  const list = replicas.map((r) => `${r.address} ${r.state}${r.lagSeconds === null ? '' : `, lag ${r.lagSeconds}s`}`);
  return [role, { label: 'Replicas', value: list.length > 0 ? `${shown(v.connected_replicas)}: ${list.join('; ')}` : shown(v.connected_replicas) }];
}

function keyspaceSection(dbs: KeyspaceDb[]): Section {
  if (dbs.length === 0) return { heading: 'Keyspace', text: 'No keys in any database.' };
  return {
    heading: 'Keyspace',
    table: {
      columns: ['db', 'keys', 'expiring', 'avg ttl'],
      rows: dbs.map((d) => [`db${d.db}`, String(d.keys), String(d.expires), d.avgTtlMs > 0 ? formatDuration(d.avgTtlMs / 1000) : '–']),
    },
  };
}

function slowlogSection(rows: SlowlogRow[], refused: string | undefined): Section {
  if (refused !== undefined) return { heading: 'Slow log', status: 'info', text: `Redis would not show it: ${refused}` };
  if (rows.length === 0) return { heading: 'Slow log', text: 'Empty: no command was slower than slowlog-log-slower-than.' };
  return {
    heading: 'Slow log',
    text: `The latest ${rows.length}, newest first. Arguments that may be secrets show as ***; each is cut at ${MAX_ARG_CHARS} characters.`,
    table: {
      columns: ['when', 'ms', 'command', 'client'],
      rows: rows.map((r) => [`${formatDuration(r.ageSeconds)} ago`, r.durationMs.toFixed(1), commandLine(r.args), r.clientName || r.client]),
    },
  };
}
