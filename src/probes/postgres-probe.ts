import { formatDuration } from '../core/format.ts';
import { elapsedMs } from '../core/timeout.ts';
import { selectRows, type Queryable } from '../db/queryable.ts';
import { finiteValues, type Measurement } from './reading.ts';
import { shown, type ProbeRegistration } from './registration.ts';
import type { ThresholdRule } from './thresholds.ts';

interface ServerRow {
  version: string;
  used: string;
  max_connections: string;
  database: string;
  uptime_s: string | null;
  blocked: string;
  longest_xact_s: number | null;
  xid_age: number | null;
  replication_lag_s: number | null;
  cache_hit_ratio: number | null;
}

/**
 * One round trip that answers everything /health shows about Postgres and what Vigil's own rules
 * may watch. Values: `round_trip_ms`, `connections_used` (client backends, server-wide),
 * `connections_max`, `uptime_s`; in this database `blocked_sessions` (waiting for a lock),
 * `longest_transaction_seconds`, `cache_hit_ratio` (0–1); `xid_age` (oldest database) and
 * `replication_lag_seconds` (the most behind streaming replica; absent without one). Facts:
 * `version`, `database`. Cheap on purpose (counts, no pg_blocking_pids): it runs every tick.
 */
export async function measurePostgres(db: Queryable): Promise<Measurement> {
  const start = performance.now();
  const [row] = await selectRows<ServerRow>(
    db,
    `SELECT /* vigil:health postgres */ split_part(current_setting('server_version'), ' ', 1) AS version,
            (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS used,
            current_setting('max_connections') AS max_connections,
            current_database() AS database,
            extract(epoch FROM now() - pg_postmaster_start_time())::bigint AS uptime_s,
            (SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()) AS blocked,
            (SELECT extract(epoch FROM max(now() - xact_start))::float8 FROM pg_stat_activity
              WHERE backend_type = 'client backend' AND datname = current_database() AND pid <> pg_backend_pid()) AS longest_xact_s,
            (SELECT max(age(datfrozenxid))::float8 FROM pg_database) AS xid_age,
            (SELECT extract(epoch FROM max(replay_lag))::float8 FROM pg_stat_replication) AS replication_lag_s,
            (SELECT blks_hit::float8 / nullif(blks_hit + blks_read, 0) FROM pg_stat_database WHERE datname = current_database()) AS cache_hit_ratio`,
  );
  const roundTripMs = elapsedMs(start);
  if (!row) throw new Error('Postgres returned no row');
  return {
    values: finiteValues({
      round_trip_ms: roundTripMs,
      connections_used: Number(row.used),
      connections_max: Number(row.max_connections),
      uptime_s: row.uptime_s === null ? null : Number(row.uptime_s),
      blocked_sessions: Number(row.blocked),
      longest_transaction_seconds: row.longest_xact_s ?? 0,
      xid_age: row.xid_age,
      replication_lag_seconds: row.replication_lag_s,
      cache_hit_ratio: row.cache_hit_ratio,
    }),
    facts: { version: row.version, database: row.database },
  };
}

/** Running out of connections fails logins for every service, so it warns well before. */
export const POSTGRES_RULES: readonly ThresholdRule[] = [
  { measure: 'connections_used', of: 'connections_max', warnAt: 0.8, failAt: 0.95, label: 'connections' },
];

export const postgresProbe: ProbeRegistration = {
  kind: 'postgres',
  heading: 'Postgres',
  layout: 'line',
  targets: ({ db, missing }) => [
    db
      ? { name: 'Postgres', measure: () => measurePostgres(db), rules: POSTGRES_RULES }
      : { name: 'Postgres', unavailable: missing.postgres ?? 'not configured' },
  ],
  summarize: ({ values: v, facts }) =>
    `${shown(v.round_trip_ms)} ms · PostgreSQL ${facts.version ?? '?'} · ${shown(v.connections_used)}/${shown(v.connections_max)} connections`,
  details: ({ values: v, facts }) => [
    { label: 'Round trip', value: `${shown(v.round_trip_ms)} ms` },
    { label: 'Version', value: facts.version ?? 'unknown' },
    { label: 'Connections', value: `${shown(v.connections_used)} of max_connections ${shown(v.connections_max)}` },
    { label: 'Database', value: facts.database ?? 'unknown' },
    { label: 'Up for', value: v.uptime_s === undefined ? 'unknown' : formatDuration(v.uptime_s) },
  ],
};
