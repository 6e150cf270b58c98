import { selectRows, type Queryable } from '../db/queryable.ts';

/** A table as autovacuum and the planner see it (pg_stat_user_tables). */
export interface TableStat {
  name: string;
  totalBytes: number;
  liveRows: number;
  deadRows: number;
  /** Dead among all row versions: what VACUUM would reclaim, the usual first sign of bloat. */
  deadRatio: number;
  /** Seconds since the last (auto)vacuum and (auto)analyze; null: never. */
  vacuumedSecondsAgo: number | null;
  analyzedSecondsAgo: number | null;
}

/** An index no query has used since the statistics were reset, or one that repeats another. */
export interface IndexFinding {
  name: string;
  table: string;
  bytes: number;
  scans: number;
  /** `unused`, or `duplicate of <other index>` (same table, columns, expressions and predicate). */
  finding: string;
}

export async function readLargestTables(db: Queryable, limit: number): Promise<TableStat[]> {
  const rows = await selectRows<{ name: string; total: string; live: string; dead: string; vacuumed: number | null; analyzed: number | null }>(
    db,
    `SELECT /* vigil:db tables */ quote_ident(schemaname) || '.' || quote_ident(relname) AS name,
            pg_total_relation_size(relid)::text AS total, n_live_tup::text AS live, n_dead_tup::text AS dead,
            extract(epoch FROM now() - greatest(last_vacuum, last_autovacuum))::float8 AS vacuumed,
            extract(epoch FROM now() - greatest(last_analyze, last_autoanalyze))::float8 AS analyzed
       FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC, relname LIMIT $1`,
    [limit],
  );
  return rows.map((r) => {
    const live = Number(r.live);
    const dead = Number(r.dead);
    return { name: r.name, totalBytes: Number(r.total), liveRows: live, deadRows: dead, deadRatio: live + dead === 0 ? 0 : dead / (live + dead), vacuumedSecondsAgo: r.vacuumed, analyzedSecondsAgo: r.analyzed };
  });
}

/**
 * Unused indexes (never scanned, not backing a primary key, unique or exclusion constraint, which
 * enforce something even unscanned) and duplicates, biggest first.
 */
export async function readIndexFindings(db: Queryable, limit: number): Promise<IndexFinding[]> {
  return (
    await selectRows<{ name: string; table_name: string; bytes: string; scans: string; finding: string }>(
      db,
      `WITH /* vigil:db indexes */ idx AS (
         SELECT s.indexrelid, quote_ident(s.schemaname) || '.' || quote_ident(s.indexrelname) AS name,
                quote_ident(s.schemaname) || '.' || quote_ident(s.relname) AS table_name, s.idx_scan,
                i.indisunique OR i.indisprimary OR i.indisexclusion AS enforces, i.indrelid, i.indkey::text AS keys,
                coalesce(pg_get_expr(i.indexprs, i.indrelid), '') AS exprs, coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS pred
           FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
       ), dup AS (
         SELECT a.indexrelid, min(b.name) AS other FROM idx a JOIN idx b
             ON a.indrelid = b.indrelid AND a.keys = b.keys AND a.exprs = b.exprs AND a.pred = b.pred AND a.indexrelid > b.indexrelid
          GROUP BY a.indexrelid
       )
       SELECT idx.name, idx.table_name, pg_relation_size(idx.indexrelid)::text AS bytes, idx.idx_scan::text AS scans,
              CASE WHEN dup.other IS NOT NULL THEN 'duplicate of ' || dup.other ELSE 'unused' END AS finding
         FROM idx LEFT JOIN dup ON dup.indexrelid = idx.indexrelid
        WHERE dup.other IS NOT NULL OR (idx.idx_scan = 0 AND NOT idx.enforces)
        ORDER BY pg_relation_size(idx.indexrelid) DESC, idx.name LIMIT $1`,
      [limit],
    )
  ).map((r) => ({ name: r.name, table: r.table_name, bytes: Number(r.bytes), scans: Number(r.scans), finding: r.finding }));
}
