import { selectRows, type Queryable } from '../db/queryable.ts';
import { maskSqlLiterals } from './mask-sql.ts';

/**
 * What /db reads from the inspected database, all of it through views a `pg_monitor` role may
 * read (pg_stat_activity, pg_stat_database, pg_database, pg_settings) and each statement marked
 * `/* vigil`, so /slowqueries leaves them out. Numbers only: thresholds live in db-status.ts.
 */
export interface DbOverview {
  database: string;
  sizeBytes: number;
  connections: number;
  maxConnections: number;
  byState: Array<{ state: string; application: string; count: number }>;
  /** Buffer cache hits / all block reads of this database since its statistics were reset. */
  cacheHitRatio: number | null;
  blockReads: number;
  deadlocks: number;
  tempFiles: number;
  tempBytes: number;
  autovacuumWorkers: number;
  /** Age of the oldest unfrozen transaction id of any database: wraparound comes at 2^31. */
  xidAge: number;
  /** In this database (connections above are the server's: max_connections is). */
  longestTransaction: { pid: number; seconds: number; state: string | null } | null;
  longestIdleInTransaction: { pid: number; seconds: number } | null;
}

export const XID_WRAPAROUND = 2 ** 31;

export async function readOverview(db: Queryable): Promise<DbOverview> {
  const [main] = await selectRows<{
    database: string;
    size_bytes: string;
    max_connections: number;
    connections: number;
    blks_hit: string | null;
    blks_read: string | null;
    deadlocks: string | null;
    temp_files: string | null;
    temp_bytes: string | null;
    autovacuum: number;
    xid_age: number;
  }>(
    db,
    `SELECT /* vigil:db overview */ current_database() AS database,
            pg_database_size(current_database())::text AS size_bytes,
            current_setting('max_connections')::int AS max_connections,
            (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS connections,
            s.blks_hit::text, s.blks_read::text, s.deadlocks::text, s.temp_files::text, s.temp_bytes::text,
            (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'autovacuum worker') AS autovacuum,
            (SELECT max(age(datfrozenxid))::int FROM pg_database) AS xid_age
       FROM pg_stat_database s WHERE s.datname = current_database()`,
  );
  if (!main) throw new Error('pg_stat_database has no row for this database');
  const byState = await selectRows<{ state: string; application: string; count: number }>(
    db,
    `SELECT /* vigil:db overview */ coalesce(state, 'unknown') AS state, coalesce(nullif(application_name, ''), '(none)') AS application, count(*)::int AS count
       FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 10`,
  );
  const [longest] = await selectRows<{ pid: number; seconds: number; state: string | null }>(
    db,
    `SELECT /* vigil:db overview */ pid, extract(epoch FROM now() - xact_start)::float8 AS seconds, state
       FROM pg_stat_activity WHERE backend_type = 'client backend' AND xact_start IS NOT NULL AND pid <> pg_backend_pid()
        AND datname = current_database()
      ORDER BY xact_start LIMIT 1`,
  );
  const [idle] = await selectRows<{ pid: number; seconds: number }>(
    db,
    `SELECT /* vigil:db overview */ pid, extract(epoch FROM now() - state_change)::float8 AS seconds
       FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND datname = current_database() ORDER BY state_change LIMIT 1`,
  );
  const hits = Number(main.blks_hit ?? 0);
  const reads = Number(main.blks_read ?? 0);
  return {
    database: main.database,
    sizeBytes: Number(main.size_bytes),
    connections: main.connections,
    maxConnections: main.max_connections,
    byState,
    cacheHitRatio: hits + reads === 0 ? null : hits / (hits + reads),
    blockReads: hits + reads,
    deadlocks: Number(main.deadlocks ?? 0),
    tempFiles: Number(main.temp_files ?? 0),
    tempBytes: Number(main.temp_bytes ?? 0),
    autovacuumWorkers: main.autovacuum,
    xidAge: main.xid_age ?? 0,
    longestTransaction: longest ?? null,
    longestIdleInTransaction: idle ?? null,
  };
}

/** One session in a lock conflict: waiting on others, holding others up, or both. */
export interface LockSession {
  pid: number;
  user: string | null;
  application: string | null;
  state: string | null;
  /** Who it waits for (pg_blocking_pids); empty for a blocker that waits for nobody. */
  blockedBy: number[];
  /** How many sessions wait for it. */
  blocking: number;
  waitEvent: string | null;
  /** Since its current statement started (a waiting session: how long it has waited, at most). */
  querySeconds: number | null;
  transactionSeconds: number | null;
  /** Literals masked. */
  query: string;
}

/** In this database: every session that waits for a lock another holds, and every session holding one up. */
export async function readLockConflicts(db: Queryable): Promise<LockSession[]> {
  const rows = await selectRows<{
    pid: number;
    usename: string | null;
    application_name: string | null;
    state: string | null;
    blocked_by: number[];
    wait: string | null;
    query_s: number | null;
    xact_s: number | null;
    query: string | null;
  }>(
    db,
    // pg_blocking_pids once per session, in a CTE; the text is cut here and masked below.
    `WITH /* vigil:db locks */ waits AS (
       SELECT pid, pg_blocking_pids(pid) AS blocked_by FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND datname = current_database()
     ), involved AS (
       SELECT pid FROM waits WHERE cardinality(blocked_by) > 0
       UNION SELECT unnest(blocked_by) FROM waits
     )
     SELECT a.pid, a.usename, a.application_name, a.state, coalesce(w.blocked_by, '{}') AS blocked_by,
            CASE WHEN a.wait_event IS NULL THEN NULL ELSE a.wait_event_type || ':' || a.wait_event END AS wait,
            extract(epoch FROM now() - a.query_start)::float8 AS query_s,
            extract(epoch FROM now() - a.xact_start)::float8 AS xact_s,
            left(a.query, 1000) AS query
       FROM pg_stat_activity a JOIN involved i ON i.pid = a.pid LEFT JOIN waits w ON w.pid = a.pid
      ORDER BY a.xact_start NULLS LAST LIMIT 100`,
  );
  return rows.map((r) => ({
    pid: r.pid,
    user: r.usename,
    application: r.application_name,
    state: r.state,
    blockedBy: r.blocked_by,
    blocking: rows.filter((o) => o.blocked_by.includes(r.pid)).length,
    waitEvent: r.wait,
    querySeconds: r.query_s,
    transactionSeconds: r.xact_s,
    query: maskSqlLiterals(r.query ?? ''),
  }));
}
