import { z } from 'zod';
import { argSchemas } from '../src/core/args.ts';
import { defineInspectCommand } from './deps.ts';
import { requireDep } from '../src/core/deps.ts';
import type { Reply } from '../src/core/reply.ts';
import type { Queryable } from '../src/db/queryable.ts';
import { slowQueryRunsFor } from '../src/probes/slow-query-runs.ts';
import {
  longRunningQueries,
  shortenQuery,
  statementsUnavailable,
  type StatementOrder,
  type StatementReader,
  type StatementsUnavailable,
} from '../src/probes/statements.ts';

const QUERY_CHARS = 160;
const TITLE_BY = { total: 'by total time', mean: 'by mean time', calls: 'by calls' } as const;

export default defineInspectCommand({
  name: 'slowqueries',
  summary: 'Top statements from pg_stat_statements (or long-running queries when it is off)',
  usage: '[--by total|mean|calls] [--limit N] [--min-ms X]',
  options: { by: { type: 'string' }, limit: { type: 'string' }, 'min-ms': { type: 'string' } },
  args: z.object({
    by: z.enum(['total', 'mean', 'calls'], 'must be one of total, mean, calls').default('total'),
    limit: argSchemas.positiveInt(50).default(10),
    'min-ms': argSchemas.nonNegative(86_400_000).default(0),
    positionals: z.array(z.string()).max(0, 'takes no arguments besides the options'),
  }),
  async run(args, { deps }): Promise<Reply> {
    const db = requireDep(deps.db, 'Postgres', deps.missing.postgres);
    // Identical requests in a burst share one run; the arguments are already normalised by zod.
    const key = JSON.stringify(['slowqueries', args.by, args.limit, args['min-ms']]);
    return slowQueryRunsFor(db).run(key, (reader) => slowQueries(db, reader, args));
  },
});

async function slowQueries(db: Queryable, reader: StatementReader, args: { by: StatementOrder; limit: number; 'min-ms': number }): Promise<Reply> {
  try {
    const stats = await reader.top({ by: args.by, limit: args.limit, minMeanMs: args['min-ms'] });
    return {
      title: `Slow queries ${TITLE_BY[args.by]}`,
      status: 'info',
      summary:
        stats.length === 0
          ? 'pg_stat_statements has no statements matching these filters.'
          : `Top ${stats.length} statements in this database${args['min-ms'] > 0 ? `, mean ≥ ${args['min-ms']} ms` : ''}.`,
      sections: stats.length === 0 ? [] : [
        {
          heading: 'Statements',
          table: {
            columns: ['total ms', 'mean ms', 'calls', 'rows', 'cache hit', '% time', 'query'],
            rows: stats.map((s) => [
              ms(s.totalMs),
              ms(s.meanMs),
              String(s.calls),
              String(s.rows),
              s.cacheHitRatio === null ? '–' : `${(s.cacheHitRatio * 100).toFixed(1)}%`,
              `${(s.shareOfTotal * 100).toFixed(1)}%`,
              shortenQuery(s.query, QUERY_CHARS),
            ]),
          },
        },
      ],
      notes: ["String literals are shown as *** (they may hold passwords); Vigil's own statements are left out."],
      data: stats,
    };
  } catch (err) {
    const unavailable = statementsUnavailable(err);
    if (!unavailable) throw err;
    return fallback(db, unavailable, args.limit);
  }
}

/** Without pg_stat_statements, the next best thing during an incident: what is running right now. */
async function fallback(db: Queryable, why: StatementsUnavailable, limit: number): Promise<Reply> {
  const active = await longRunningQueries(db, limit);
  return {
    title: 'Slow queries: pg_stat_statements unavailable',
    status: 'warn',
    summary:
      why.reason === 'extension_missing'
        ? 'The pg_stat_statements extension is not installed in this database. Showing long-running queries instead.'
        : 'pg_stat_statements is installed but not preloaded. Showing long-running queries instead.',
    sections: [
      {
        heading: 'Long-running queries (pg_stat_activity)',
        ...(active.length === 0
          ? { text: 'No active client queries right now.' }
          : {
              table: {
                columns: ['pid', 'running', 'state', 'wait', 'blocked by', 'query'],
                rows: active.map((a) => [
                  String(a.pid),
                  `${a.runningSeconds.toFixed(1)} s`,
                  a.state ?? '?',
                  a.waitEvent ?? '–',
                  a.blockedBy.length > 0 ? a.blockedBy.join(', ') : '–',
                  shortenQuery(a.query, QUERY_CHARS),
                ]),
              },
            }),
      },
    ],
    notes: ['How to enable pg_stat_statements:', ...why.howToFix],
    data: { unavailable: why, active },
  };
}

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}
