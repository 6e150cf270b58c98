import { selectRows, type Queryable } from '../db/queryable.ts';

export type StatementOrder = 'total' | 'mean' | 'calls';

export interface StatementStat {
  queryId: string;
  query: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  rows: number;
  /** Share of shared buffers found in cache; null when the statement read no blocks. */
  cacheHitRatio: number | null;
  /** Share of all recorded execution time spent in this statement. */
  shareOfTotal: number;
}

export interface ActivityRow {
  pid: number;
  user: string | null;
  database: string | null;
  state: string | null;
  waitEvent: string | null;
  runningSeconds: number;
  blockedBy: number[];
  query: string;
}

/** Why pg_stat_statements cannot be read, with the exact steps that fix it. */
export interface StatementsUnavailable {
  reason: 'extension_missing' | 'not_preloaded';
  howToFix: string[];
}

// Whitelisted ORDER BY columns: the column name never comes from user text.
const ORDER_COLUMN: Record<StatementOrder, string> = {
  total: 'total_exec_time',
  mean: 'mean_exec_time',
  calls: 'calls',
};

interface StatementRow {
  queryid: string | null;
  query: string | null;
  calls: string;
  total_exec_time: number;
  mean_exec_time: number;
  rows: string;
  hit_ratio: number | null;
  share: number | null;
}

/**
 * Top statements from pg_stat_statements (PG13+ column names). Only the current database's
 * statements are shown: the others are someone else's incident.
 */
export async function topStatements(
  db: Queryable,
  opts: { by: StatementOrder; limit: number; minMeanMs: number },
): Promise<StatementStat[]> {
  const rows = await selectRows<StatementRow>(
    db,
    `SELECT * FROM (
       SELECT queryid::text AS queryid, query, calls, total_exec_time, mean_exec_time, rows,
              CASE WHEN shared_blks_hit + shared_blks_read = 0 THEN NULL
                   ELSE shared_blks_hit::float8 / (shared_blks_hit + shared_blks_read) END AS hit_ratio,
              total_exec_time / NULLIF(sum(total_exec_time) OVER (), 0) AS share
         FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     ) s
     WHERE mean_exec_time >= $1
     ORDER BY ${ORDER_COLUMN[opts.by]} DESC
     LIMIT $2`,
    [opts.minMeanMs, opts.limit],
  );
  return rows.map((r) => ({
    queryId: r.queryid ?? '?',
    query: r.query ?? '<insufficient privilege>',
    calls: Number(r.calls),
    totalMs: r.total_exec_time,
    meanMs: r.mean_exec_time,
    rows: Number(r.rows),
    cacheHitRatio: r.hit_ratio,
    shareOfTotal: r.share ?? 0,
  }));
}

/** Map the two SQLSTATEs that mean "pg_stat_statements is not usable here" to a fix. */
export function statementsUnavailable(err: unknown): StatementsUnavailable | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === '42P01') {
    return {
      reason: 'extension_missing',
      howToFix: [
        "Add pg_stat_statements to shared_preload_libraries (ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements') and restart PostgreSQL if not done yet.",
        'Then, in this database: CREATE EXTENSION pg_stat_statements;',
      ],
    };
  }
  if (code === '55000') {
    return {
      reason: 'not_preloaded',
      howToFix: [
        "The extension exists but is not loaded: ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'; then restart PostgreSQL.",
      ],
    };
  }
  return null;
}

interface ActivitySqlRow {
  pid: number;
  usename: string | null;
  datname: string | null;
  state: string | null;
  wait: string | null;
  seconds: number | null;
  blocked_by: number[];
  query: string | null;
}

/** Longest-running non-idle client queries in this database (as for pg_stat_statements), with who blocks them. */
export async function longRunningQueries(db: Queryable, limit: number): Promise<ActivityRow[]> {
  const rows = await selectRows<ActivitySqlRow>(
    db,
    `SELECT pid, usename, datname, state,
            CASE WHEN wait_event IS NULL THEN NULL ELSE wait_event_type || ':' || wait_event END AS wait,
            extract(epoch FROM now() - query_start)::float8 AS seconds,
            pg_blocking_pids(pid) AS blocked_by,
            left(query, 1000) AS query
       FROM pg_stat_activity
      WHERE backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_backend_pid()
        AND datname = current_database()
      ORDER BY query_start NULLS LAST
      LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    pid: r.pid,
    user: r.usename,
    database: r.datname,
    state: r.state,
    waitEvent: r.wait,
    runningSeconds: r.seconds ?? 0,
    blockedBy: r.blocked_by,
    query: r.query ?? '',
  }));
}

/** Collapse whitespace and cut to `max` characters so a statement fits a table cell. */
export function shortenQuery(query: string, max: number): string {
  const flat = query.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
