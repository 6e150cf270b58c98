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
}

/**
 * One round trip that answers everything /health shows about Postgres. Values: `round_trip_ms`,
 * `connections_used` (client backends, server-wide), `connections_max`, `uptime_s`. Facts:
 * `version`, `database`.
 */
export async function measurePostgres(db: Queryable): Promise<Measurement> {
  const start = performance.now();
  const [row] = await selectRows<ServerRow>(
    db,
    `SELECT /* vigil:health postgres */ split_part(current_setting('server_version'), ' ', 1) AS version,
            (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS used,
            current_setting('max_connections') AS max_connections,
            current_database() AS database,
            extract(epoch FROM now() - pg_postmaster_start_time())::bigint AS uptime_s`,
  );
  const roundTripMs = elapsedMs(start);
  if (!row) throw new Error('Postgres returned no row');
  return {
    values: finiteValues({
      round_trip_ms: roundTripMs,
      connections_used: Number(row.used),
      connections_max: Number(row.max_connections),
      uptime_s: row.uptime_s === null ? null : Number(row.uptime_s),
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
