import { usageStatus, type CheckOutcome } from './check.ts';
import { selectRows, type Queryable } from './queryable.ts';
import { elapsedMs } from '../core/timeout.ts';

interface ServerRow {
  version: string;
  used: string;
  max_connections: string;
  database: string;
  uptime_s: string | null;
}

/** One round trip that answers everything /health shows about Postgres. */
export async function probePostgres(db: Queryable): Promise<CheckOutcome> {
  const start = performance.now();
  const [row] = await selectRows<ServerRow>(
    db,
    `SELECT split_part(current_setting('server_version'), ' ', 1) AS version,
            (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS used,
            current_setting('max_connections') AS max_connections,
            current_database() AS database,
            extract(epoch FROM now() - pg_postmaster_start_time())::bigint AS uptime_s`,
  );
  const roundTripMs = elapsedMs(start);
  if (!row) throw new Error('Postgres returned no row');
  const used = Number(row.used);
  const max = Number(row.max_connections);
  return {
    status: usageStatus(used, max),
    summary: `${roundTripMs} ms · PostgreSQL ${row.version} · ${used}/${max} connections`,
    details: [
      { label: 'Round trip', value: `${roundTripMs} ms` },
      { label: 'Version', value: row.version },
      { label: 'Connections', value: `${used} of max_connections ${max}` },
      { label: 'Database', value: row.database },
      { label: 'Up for', value: formatDuration(Number(row.uptime_s ?? 0)) },
    ],
  };
}

/** `93784` → `1d 2h 3m`: how on-call people read uptimes and ages. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'unknown';
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : ''].filter(Boolean).join(' ') || '0m';
}
