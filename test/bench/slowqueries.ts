/**
 * Benchmark 2: `/slowqueries` when pg_stat_statements is full. 5,000 distinct statements are run in
 * the bench database, then `topStatements` and the whole dispatcher path are timed.
 *
 * Distinct statements need distinct query ids. Column aliases do not give that (Postgres leaves
 * target-list names out of the query id: `SELECT $1::int + 0 AS c_1` and `… AS c_2` are one
 * entry), so the statements read different columns of different tables: 100 tables × 50 columns.
 */
import type { Container } from '../../src/container.ts';
import { createPool } from '../../src/db/pools.ts';
import { topStatements } from '../../src/probes/statements.ts';
import { line, summarize, timeCommand, verdict } from './stats.ts';

const TABLES = 100;
const COLUMNS = 50;
const BATCH = 250;
const WARMUP = 5;
// Enough samples that p99 is not simply the slowest run.
const ITERATIONS = 200;
const TARGET_MS = 50;

export async function benchSlowQueries(container: Container, dbUrl: string): Promise<void> {
  const probeDb = container.infra.probeDb;
  if (!probeDb) throw new Error('benchSlowQueries needs Postgres');
  // Vigil's probe pool is read-only: the statements to rank are made on a pool of the bench's own.
  const pool = createPool(dbUrl, { name: 'vigil-bench-setup', max: 1, onIdleError: () => undefined });
  const statements = TABLES * COLUMNS;
  console.log(`\n2. /slowqueries with ${statements} distinct statements in pg_stat_statements`);

  const setupStart = performance.now();
  // One DO block: a single tracked statement instead of a hundred CREATE TABLEs.
  await pool.query(`DO $$ BEGIN
    FOR i IN 0..${TABLES - 1} LOOP
      EXECUTE format('CREATE TABLE bench_t%s (%s)', i,
        (SELECT string_agg(format('c%s int', j), ', ') FROM generate_series(0, ${COLUMNS - 1}) j));
    END LOOP;
  END $$`);
  const all: string[] = [];
  for (let t = 0; t < TABLES; t++) for (let c = 0; c < COLUMNS; c++) all.push(`SELECT c${c} FROM bench_t${t} WHERE c${c} = 1`);
  // Several statements per simple-protocol round trip; pg_stat_statements records each one.
  for (let i = 0; i < all.length; i += BATCH) await pool.query(all.slice(i, i + BATCH).join(';\n'));
  await pool.end();
  console.log(`  ran ${all.length} distinct statements in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);

  const { rows } = await probeDb.query<{ ours: string; total: string; max: string; dealloc: string | null }>(
    `SELECT count(*) FILTER (WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())) AS ours,
            count(*) AS total,
            current_setting('pg_stat_statements.max') AS max,
            (SELECT dealloc FROM pg_stat_statements_info) AS dealloc
       FROM pg_stat_statements`,
  );
  const info = rows[0];
  if (info) {
    console.log(
      `  pg_stat_statements: ${info.ours} entries for this database, ${info.total} server-wide, pg_stat_statements.max = ${info.max}, deallocations so far = ${info.dealloc ?? '?'}`,
    );
    if (Number(info.ours) < statements) {
      console.log(
        `  note: pg_stat_statements.max (${info.max}) is server-wide and limits what is kept; when full, Postgres evicts the least-used 5%. Raising it needs a server restart.`,
      );
    }
  }

  const opts = { by: 'total' as const, limit: 10, minMeanMs: 0 };
  for (let i = 0; i < WARMUP; i++) await topStatements(probeDb, opts);
  const direct: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const start = performance.now();
    await topStatements(probeDb, opts);
    direct.push(performance.now() - start);
  }

  const { samples: viaDispatcher, title } = await timeCommand(container.commands, '/slowqueries', { warmup: WARMUP, iterations: ITERATIONS });
  await container.flushAudit();

  const d = summarize(direct);
  const s = summarize(viaDispatcher);
  console.log(line('topStatements (limit 10, by total)', d));
  console.log(line('dispatch /slowqueries + Block Kit', s));
  console.log(`  reply title: "${title}"; p99 ${verdict(s.p99, TARGET_MS)}`);
}
