import { z } from 'zod';
import { argSchemas } from '../src/core/args.ts';
import { defineInspectCommand } from './deps.ts';
import { requireDep } from '../src/core/deps.ts';
import { formatBytes, formatDuration, formatPercent } from '../src/core/format.ts';
import type { Reply } from '../src/core/reply.ts';
import type { BigKeySample, ScanStop } from '../src/probes/redis-bigkeys.ts';
import { redisInspectorFor, type RedisInspector } from '../src/probes/redis-inspect.ts';
import { REDIS_RULES } from '../src/probes/redis-probe.ts';
import { redisDetails, redisSections } from '../src/probes/redis-report.ts';
import { shownArg } from '../src/probes/redis-slowlog.ts';
import { assess } from '../src/probes/thresholds.ts';

const TOP_DEFAULT = 10;

export default defineInspectCommand({
  name: 'redis',
  summary: 'Redis in depth: memory, evictions, hit ratio, clients, persistence, replication, slow log, big keys',
  usage: '[bigkeys [--match pattern] [--limit N]]',
  options: { match: { type: 'string' }, limit: { type: 'string' } },
  args: z
    .object({
      match: z.string().regex(/^\S{1,200}$/, 'a SCAN MATCH pattern: no spaces, at most 200 characters').optional(),
      limit: argSchemas.positiveInt(50).optional(),
      positionals: z.array(z.enum(['bigkeys'], 'the only subcommand is bigkeys')).max(1, 'takes at most one subcommand'),
    })
    .refine((a) => a.positionals[0] === 'bigkeys' || (a.match === undefined && a.limit === undefined), {
      message: '--match and --limit go with bigkeys: /redis bigkeys --match "jobs:*"',
    }),
  async run(args, { deps }): Promise<Reply> {
    const redis = requireDep(deps.redis, 'Redis', deps.missing.redis);
    const inspector = redisInspectorFor(redis, deps.redisAt);
    if (args.positionals[0] === 'bigkeys') return bigKeysReply(await inspector.bigKeys({ pattern: args.match ?? '*', top: args.limit ?? TOP_DEFAULT }));
    return overview(inspector, deps.redisAt, deps.now());
  },
});

async function overview(inspector: RedisInspector, at: string | null, now: number): Promise<Reply> {
  const { reading, slowlog } = await inspector.overview();
  const m = reading.measurement;
  const { status, breaches } = assess(m, REDIS_RULES);
  const details = redisDetails(reading.info, slowlog, now);
  const v = m.values;
  const uptime = v.uptime_seconds === undefined ? '' : `up ${formatDuration(v.uptime_seconds)} · `;
  const notes = [
    ...breaches.map((b) => `Needs attention: ${b.reason}.`),
    'Evictions, hits and misses count since Redis started (or CONFIG RESETSTAT).',
    ...(slowlog.unreadable > 0 ? [`${slowlog.unreadable} slow log entries were not in SLOWLOG's format and are left out.`] : []),
  ];
  return {
    title: ['Redis', m.facts.version, at ? `at ${at}` : undefined].filter(Boolean).join(' '),
    status,
    summary: `${m.facts.role ?? 'unknown role'} · ${uptime}${v.round_trip_ms ?? '?'} ms round trip · ${v.ops_per_sec ?? '?'} ops/s`,
    sections: redisSections(m, breaches, details),
    notes,
    suggestions: [{ label: 'Biggest keys', command: '/redis bigkeys' }],
    data: { at, status, breaches, values: v, facts: m.facts, ...details },
  };
}

const STOPPED: Record<ScanStop, (s: BigKeySample) => string> = {
  end: () => 'every matching key was seen',
  keys: (s) => `it reached ${s.limits.maxKeys} keys`,
  calls: (s) => `it reached ${s.limits.maxScanCalls} SCAN calls`,
  time: (s) => `the ${s.limits.budgetMs} ms budget ran out`,
};

function bigKeysReply(s: BigKeySample): Reply {
  const matching = s.pattern === '*' ? '' : ` matching ${s.pattern}`;
  const share = s.dbsize > 0 ? ` (${formatPercent(s.measured / s.dbsize)})` : '';
  const summary = s.complete
    ? `Every key${matching} measured: ${s.measured} of ${s.dbsize} in this database, in ${Math.round(s.elapsedMs)} ms.`
    : `A sample, not a census: ${s.measured} keys${matching} measured of ${s.dbsize} in this database${share}, in ${Math.round(s.elapsedMs)} ms.`;
  return {
    title: `Biggest keys${matching}`,
    status: 'info',
    summary,
    sections: [
      s.top.length === 0
        ? { heading: 'Keys', text: `No key${matching} was found in the sample.` }
        : {
            heading: 'Keys',
            table: { columns: ['key', 'type', 'size'], rows: s.top.map((k) => [shownArg(k.key), k.type, formatBytes(k.bytes)]) },
          },
    ],
    notes: [
      `SCAN made ${s.scanCalls} ${s.scanCalls === 1 ? 'call' : 'calls'} and stopped because ${STOPPED[s.stoppedBy](s)} (limits: ${s.limits.maxScanCalls} calls of COUNT ${s.limits.scanCount}, ${s.limits.maxKeys} keys, ${s.limits.budgetMs} ms).`,
      `Sizes are MEMORY USAGE estimates (SAMPLES ${s.limits.memorySamples}).`,
      ...(s.complete ? [] : ['A key outside the sample may be bigger: for a full census run `redis-cli --memkeys` off-peak.']),
    ],
    data: s,
  };
}
