/**
 * Benchmark 2: `/slowqueries` against the server-wide pg_stat_statements entry count.
 *
 * pg_stat_statements is one table for the whole server, and any read of its texts loads the whole
 * query-text file, so what matters is the server-wide count, not the current database's. Filler
 * statements are generated in a throwaway database (their entries are reset by database id and the
 * database dropped at the end, so no other database's entries are touched) until the server holds
 * ~1,000, then ~5,000 (just under `pg_stat_statements.max`, so nothing is evicted) entries. At each
 * size: the one-query read Vigil used before (texts of every entry, then sorted), the two-step read
 * (ranking without texts, texts for the shown rows only), and `/slowqueries` through the dispatcher
 * (texts cached by the reader). Then: how many entries the runs added, and a burst of 200.
 *
 * Distinct statements need distinct query ids. Column aliases do not give that (Postgres leaves
 * target-list names out of the query id), so the statements read different columns of different
 * tables: 100 tables × 50 columns. Each carries a comment, so texts weigh what ORM queries weigh.
 */
import type { Container } from '../../src/container.ts';
import type { Invoker } from '../../src/core/command.ts';
import type { HealthSnapshot } from '../../src/probes/health.ts';
import { createPool } from '../../src/db/pools.ts';
import { topStatements } from '../../src/probes/statements.ts';
import { renderBlocks } from '../../src/slack/blocks.ts';
import { createTestDatabase } from '../support/pg.ts';
import { line, summarize, verdict } from './stats.ts';

const TABLES = 100;
const COLUMNS = 50;
const BATCH = 250;
const WARMUP = 5;
// Enough samples that p99 is not simply the slowest run.
const ITERATIONS = 200;
const TARGET_MS = 50;
const SIZES = [1000, 5000];
/** Left free under pg_stat_statements.max: other databases' statements may arrive meanwhile. */
const HEADROOM = 250;
const PADDING = `/* ${'bench padding so a text weighs like an ORM query; '.repeat(10)} */`;
const BURST = 200;
const invoker: Invoker = { surface: 'cli', userId: 'bench' };

/** The read before this change: every entry's text, windowed and sorted (kept here as the baseline). */
const ONE_QUERY_WITH_TEXTS = `SELECT * FROM (
  SELECT queryid::text AS queryid, query, calls, total_exec_time, mean_exec_time, rows,
         CASE WHEN shared_blks_hit + shared_blks_read = 0 THEN NULL
              ELSE shared_blks_hit::float8 / (shared_blks_hit + shared_blks_read) END AS hit_ratio,
         total_exec_time / NULLIF(sum(total_exec_time) OVER (), 0) AS share
    FROM pg_stat_statements
   WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())) s
 WHERE mean_exec_time >= $1 ORDER BY total_exec_time DESC LIMIT $2`;

/** The ranking step alone, as Vigil runs it when every text shown is cached. */
const RANK_ONLY = `SELECT queryid, userid, calls, total_exec_time, mean_exec_time FROM pg_stat_statements(false)
  WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND mean_exec_time >= $1
  ORDER BY total_exec_time DESC LIMIT $2`;

interface Census {
  here: number;
  /** Entries in this database of statements Vigil marks as its own, and of statements on its schema. */
  marked: number;
  onVigilSchema: number;
  server: number;
  max: number;
  textBytes: number;
}

export async function benchSlowQueries(container: Container, dbUrl: string): Promise<void> {
  const probeDb = container.infra.probeDb;
  if (!probeDb) throw new Error('benchSlowQueries needs Postgres');
  console.log('\n2. /slowqueries against the server-wide pg_stat_statements entry count');

  // A few hundred statements of the bench database's own, so the list has something to rank.
  const setup = createPool(dbUrl, { name: 'vigil-bench-setup', max: 1, onIdleError: () => undefined });
  await createTables(setup);
  await runDistinct(setup, 0, 300);
  await setup.end();

  await countEntries(probeDb); // the census's own entry exists from here on
  const untouched = await countEntries(probeDb);
  const known = new Set((await entriesHere(probeDb)).map((e) => e.queryid));

  const filler = await createTestDatabase('bench_fill');
  const fill = createPool(filler.url, { name: 'vigil-bench-fill', max: 1, onIdleError: () => undefined });
  try {
    await createTables(fill);
    let generated = 0;
    for (const size of SIZES) {
      const census = await countEntries(probeDb);
      const target = Math.min(size, census.max - HEADROOM);
      const more = Math.max(0, Math.min(TABLES * COLUMNS - generated, target - census.server));
      const start = performance.now();
      await runDistinct(fill, generated, more);
      generated += more;
      const now = await countEntries(probeDb);
      console.log(
        `\n  ${now.server} entries server-wide (${now.here} in this database), query texts ${(now.textBytes / 1e6).toFixed(1)} MB, max ${now.max}` +
          ` — generated ${more} in ${((performance.now() - start) / 1000).toFixed(1)} s`,
      );
      await timeReads(container, probeDb);
    }
    await burst(container);
    const after = await countEntries(probeDb);
    console.log(
      `\n  this bench's ${SIZES.length * (WARMUP + ITERATIONS) * 2 + 2 * BURST} /slowqueries runs added ${after.here - untouched.here} entries to this database:` +
        ` ${after.marked - untouched.marked} of Vigil's marked statements, ${after.onVigilSchema - untouched.onVigilSchema} on the vigil schema (the audit trail):`,
    );
    for (const e of await entriesHere(probeDb)) if (!known.has(e.queryid)) console.log(`    ${e.query}`);
  } finally {
    // Only the filler database's entries: other databases' statistics stay as they were.
    await fill.query('SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)').catch(() => undefined);
    await fill.end();
    await filler.drop();
  }
}

async function createTables(pool: { query(sql: string): Promise<unknown> }): Promise<void> {
  // The extension must exist where the filler runs only for the reset at the end.
  await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  // One DO block: a single tracked statement instead of a hundred CREATE TABLEs.
  await pool.query(`DO $$ BEGIN
    FOR i IN 0..${TABLES - 1} LOOP
      EXECUTE format('CREATE TABLE bench_t%s (%s)', i,
        (SELECT string_agg(format('c%s int', j), ', ') FROM generate_series(0, ${COLUMNS - 1}) j));
    END LOOP;
  END $$`);
}

/** Run `count` distinct statements, numbered from `from`, several per simple-protocol round trip. */
async function runDistinct(pool: { query(sql: string): Promise<unknown> }, from: number, count: number): Promise<void> {
  const all: string[] = [];
  for (let n = from; n < from + count; n++) all.push(`${PADDING} SELECT c${n % COLUMNS} FROM bench_t${Math.floor(n / COLUMNS)} WHERE c${n % COLUMNS} = 1`);
  for (let i = 0; i < all.length; i += BATCH) await pool.query(all.slice(i, i + BATCH).join(';\n'));
}

async function countEntries(db: { query(sql: string): Promise<{ rows: unknown[] }> }): Promise<Census> {
  const { rows } = await db.query(
    `SELECT count(*) FILTER (WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())) AS here,
            count(*) AS server, current_setting('pg_stat_statements.max') AS max,
            -- The marker in front of the statement or after its first keyword, as isVigilStatement reads it.
            (SELECT count(*) FROM pg_stat_statements WHERE query ~ '^\\s*([A-Za-z]+\\s*)?/\\*\\s*vigil'
                AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())) AS marked,
            (SELECT count(*) FROM pg_stat_statements WHERE query ~* '(^|[^a-z0-9_."])"?vigil"?\\s*\\.'
                AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())) AS on_schema,
            (SELECT sum(length(query)) FROM pg_stat_statements) AS text_bytes
       FROM pg_stat_statements(false)`,
  );
  const r = rows[0] as { here: string; server: string; max: string; marked: string; on_schema: string; text_bytes: string | null };
  return {
    here: Number(r.here),
    marked: Number(r.marked),
    onVigilSchema: Number(r.on_schema),
    server: Number(r.server),
    max: Number(r.max),
    textBytes: Number(r.text_bytes ?? 0),
  };
}

/** This database's entries, texts flattened and cut, for listing what a run added. */
async function entriesHere(db: { query(sql: string): Promise<{ rows: unknown[] }> }): Promise<{ queryid: string; query: string }[]> {
  const { rows } = await db.query(
    `SELECT queryid::text AS queryid, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS query FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY calls DESC`,
  );
  return rows as { queryid: string; query: string }[];
}

async function sample(work: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await work();
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const start = performance.now();
    await work();
    samples.push(performance.now() - start);
  }
  return samples;
}

async function timeReads(container: Container, probeDb: NonNullable<Container['infra']['probeDb']>): Promise<void> {
  const opts = { by: 'total' as const, limit: 10, minMeanMs: 0 };
  const before = summarize(await sample(() => probeDb.query(ONE_QUERY_WITH_TEXTS, [0, 10])));
  const rankOnly = summarize(await sample(() => probeDb.query(RANK_ONLY, [0, 10])));
  const twoStep = summarize(await sample(() => topStatements(probeDb, opts)));
  const dispatched = summarize(
    await sample(async () => {
      const { reply } = await container.commands.dispatch('/slowqueries', '', invoker);
      JSON.stringify(renderBlocks(reply));
    }),
  );
  console.log(line('before: one query, all texts', before));
  console.log(line('ranking alone, without texts', rankOnly));
  console.log(line('ranking + texts shown (no cache)', twoStep));
  console.log(line('/slowqueries + Block Kit (cached)', dispatched));
  console.log(`  /slowqueries p99 ${verdict(dispatched.p99, TARGET_MS)}`);
}

/** 200 concurrent requests, identical then all different, with /health in the middle. */
async function burst(container: Container): Promise<void> {
  const dispatch = (text: string) => container.commands.dispatch('/slowqueries', text, invoker);
  console.log('');
  for (const kind of ['identical', 'different'] as const) {
    const started = performance.now();
    const runs = Array.from({ length: BURST }, (_, i) =>
      dispatch(kind === 'identical' ? '--limit 7' : `--by ${['total', 'mean', 'calls'][i % 3]} --limit ${1 + (i % 50)} --min-ms ${Math.floor(i / 50)}`),
    );
    const health = container.commands.dispatch('/health', '', invoker);
    const results = await Promise.all(runs);
    const { run: healthRun, reply: healthReply } = await health;
    const postgres = (healthReply.data as HealthSnapshot).checks.find((c) => c.kind === 'postgres');
    const count = (outcome: string) => results.filter((r) => r.run.outcome === outcome).length;
    const other = results.filter((r) => r.run.outcome !== 'ok' && r.run.outcome !== 'unavailable').length;
    console.log(
      `  burst of ${BURST} ${kind} /slowqueries: ${count('ok')} answered, ${count('unavailable')} "busy", ${other} other in ${(performance.now() - started).toFixed(0)} ms;` +
        ` /health meanwhile answered in ${healthRun.durationMs.toFixed(0)} ms, its Postgres check ${postgres?.status ?? '?'}${postgres?.error ? ` (${postgres.error})` : ''}`,
    );
  }
}
