import { selectRows, type Queryable } from '../db/queryable.ts';
import { maskSqlLiterals } from './mask-sql.ts';

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

/**
 * Texts are read only for rows shown and not seen before, then kept: a statement's text does not
 * change while its entry lives. Reading them is the expensive part: pg_stat_statements(true) loads
 * the whole query-text file and builds every entry's text before any WHERE applies, so filtering
 * by queryid saves the sort, not the read. Kept texts make repeated /slowqueries (an incident)
 * cost only the ranking.
 */
const TEXT_CACHE_SIZE = 1000;
/** Longer texts are cut in SQL (masking then covers a literal the cut left open). */
const TEXT_CHARS = 4000;
/** Ranked rows read beyond the limit, so a few of Vigil's own statements cost no second round. */
const OVERFETCH = 10;
const MAX_ROUNDS = 4;
const OWN_IDS_MAX = 1000;

/**
 * Vigil's own statements: those carrying Vigil's marker comment `/* vigil…` (as this module's,
 * the probes', the audit trail's and the migrations' do) and those touching Vigil's state schema
 * `vigil` (the audit trail, message references), which may live in the database Vigil inspects.
 * Told apart by text, not by role or database: Vigil often shares a role with the application
 * (then a role filter would hide the application), and its state often lives in the inspected
 * database (then a database filter would hide everything).
 *
 * The marker goes right after the statement's first keyword (`SELECT /* vigil:… *\/ …`), and a
 * marker in front of it is still recognised: PostgreSQL 18 records a statement's text from its
 * first keyword on and drops a comment in front of it (15–17 keep it), so only a marker inside the
 * statement survives on every version. See src/db/mark-statements.ts.
 */
export function isVigilStatement(maskedText: string): boolean {
  return VIGIL_MARKER.test(maskedText) || VIGIL_SCHEMA.test(maskedText);
}
// `/* vigil` at the start, or after the first keyword (`SELECT /* vigil:x */`, `DO /* vigil:migrate … */`),
// after any comments: before 18, a statement of a script is recorded with the comments above it.
const VIGIL_MARKER = /^(?:\s|--[^\n]*(?:\n|$)|\/\*(?:(?!\*\/)[\s\S])*\*\/)*(?:[A-Za-z]+\s*)?\/\*\s*vigil\b/;
// `vigil.` or `"vigil".` as a qualifier, not as the tail of another name (`myvigil.x`, `a.vigil.x`).
const VIGIL_SCHEMA = /(?:^|[^\p{L}\p{N}_$."])(?:vigil|"vigil")\s*\.\s*["\p{L}_]/iu;

interface RankedRow {
  queryid: string | null;
  userid: string;
  calls: string;
  total_exec_time: number;
  mean_exec_time: number;
  rows: string;
  hit_ratio: number | null;
  share: number | null;
}

/**
 * The ranking, without texts (their read grew with the server-wide entry count and text file), in
 * one statement shape whatever the options (the order is a parameter, not spliced SQL), so running
 * /slowqueries adds one entry to the statistics it reports. Marked `/* vigil` to be told apart.
 */
const RANKED_SQL = `SELECT /* vigil:slowqueries rank */
       queryid::text AS queryid, userid::text AS userid, calls, total_exec_time, mean_exec_time, rows, hit_ratio, share
  FROM (SELECT queryid, userid, calls, total_exec_time, mean_exec_time, rows,
               CASE WHEN shared_blks_hit + shared_blks_read = 0 THEN NULL
                    ELSE shared_blks_hit::float8 / (shared_blks_hit + shared_blks_read) END AS hit_ratio,
               total_exec_time / NULLIF(sum(total_exec_time) OVER (), 0) AS share
          FROM pg_stat_statements(false)
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND (queryid IS NULL OR queryid <> ALL($4::bigint[]))) s
 WHERE mean_exec_time >= $1
 ORDER BY CASE $3::text WHEN 'mean' THEN mean_exec_time WHEN 'calls' THEN calls::float8 ELSE total_exec_time END DESC
 LIMIT $2`;

const TEXTS_SQL = `SELECT /* vigil:slowqueries texts */
       userid::text AS userid, queryid::text AS queryid, left(query, ${TEXT_CHARS}) AS query
  FROM pg_stat_statements(true)
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND (userid, queryid) IN (SELECT * FROM unnest($1::oid[], $2::bigint[]))`;

export interface TopStatementsOptions {
  by: StatementOrder;
  limit: number;
  minMeanMs: number;
}

export interface StatementReader {
  /**
   * Top statements of the current database (the others are someone else's incident), Vigil's own
   * left out, texts masked.
   */
  top(opts: TopStatementsOptions): Promise<StatementStat[]>;
}

/** A reader keeps what it learnt (texts, which statements are Vigil's): make one per pool. */
export function createStatementReader(db: Queryable): StatementReader {
  const texts = new Map<string, string>();
  const ownIds = new Set<string>();

  async function loadTexts(rows: RankedRow[]): Promise<void> {
    const missing = rows.filter((r) => r.queryid !== null && !texts.has(textKey(r)));
    if (missing.length === 0) return;
    const found = await selectRows<{ userid: string; queryid: string; query: string | null }>(db, TEXTS_SQL, [
      missing.map((r) => r.userid),
      missing.map((r) => r.queryid),
    ]);
    for (const f of found) {
      if (f.query === null) continue; // dropped by pg_stat_statements' text garbage collection
      if (texts.size >= TEXT_CACHE_SIZE) texts.delete(texts.keys().next().value ?? '');
      texts.set(textKey(f), maskSqlLiterals(f.query ?? ''));
    }
  }

  async function top(opts: TopStatementsOptions): Promise<StatementStat[]> {
    const want = opts.limit + OVERFETCH;
    let others: RankedRow[] = [];
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const rows = await selectRows<RankedRow>(db, RANKED_SQL, [opts.minMeanMs, want, opts.by, [...ownIds]]);
      await loadTexts(rows);
      for (const r of rows) {
        const text = r.queryid === null ? undefined : texts.get(textKey(r));
        if (r.queryid !== null && text !== undefined && isVigilStatement(text) && ownIds.size < OWN_IDS_MAX) ownIds.add(r.queryid);
      }
      others = rows.filter((r) => r.queryid === null || !ownIds.has(r.queryid));
      // Done when enough remain, or the ranking has no more rows; otherwise rank again without
      // the statements just recognised as Vigil's (they are excluded in SQL from now on).
      if (others.length >= opts.limit || rows.length < want) break;
    }
    return others.slice(0, opts.limit).map((r) => toStat(r, r.queryid === null ? undefined : texts.get(textKey(r))));
  }

  return { top };
}

/** One-off read with a fresh reader (benches, scripts); commands keep a reader per pool. */
export function topStatements(db: Queryable, opts: TopStatementsOptions): Promise<StatementStat[]> {
  return createStatementReader(db).top(opts);
}

function textKey(r: { userid: string; queryid: string | null }): string {
  return `${r.userid}:${r.queryid ?? ''}`;
}

function toStat(r: RankedRow, text: string | undefined): StatementStat {
  return {
    queryId: r.queryid ?? '?',
    // No queryid: another role's statement this role may not see (needs pg_read_all_stats).
    query: r.queryid === null ? '<insufficient privilege>' : (text ?? '<text no longer recorded>'),
    calls: Number(r.calls),
    totalMs: r.total_exec_time,
    meanMs: r.mean_exec_time,
    rows: Number(r.rows),
    cacheHitRatio: r.hit_ratio,
    shareOfTotal: r.share ?? 0,
  };
}

/** Map the SQLSTATEs that mean "pg_stat_statements is not usable here" to a fix. */
export function statementsUnavailable(err: unknown): StatementsUnavailable | null {
  const code = (err as { code?: unknown } | null)?.code;
  // 42P01: the view is missing; 42883: the function pg_stat_statements(showtext) is (as read here).
  if (code === '42P01' || code === '42883') {
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
    // The text is cut here and masked below; a literal the cut left open is masked to the end.
    `SELECT /* vigil:slowqueries activity */ pid, usename, datname, state,
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
    // Masked: pg_stat_activity shows the statement as sent, literals and all.
    query: maskSqlLiterals(r.query ?? ''),
  }));
}

/** Collapse whitespace and cut to `max` characters so a statement fits a table cell. */
export function shortenQuery(query: string, max: number): string {
  const flat = query.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
