import { z } from 'zod';
import { defineInspectCommand, type InspectDeps } from './deps.ts';
import { requireDep } from '../src/core/deps.ts';
import { worstStatus as worstStatusOf, type Button, type Reply } from '../src/core/reply.ts';
import { readLockConflicts, readOverview, type LockSession } from '../src/probes/db-readings.ts';
import { locksStatus, overviewChecks, replicationChecks, tableStatus, worstCheck, type DbCheck } from '../src/probes/db-status.ts';
import { readReplication, type ReplicationView } from '../src/probes/db-replication.ts';
import { readIndexFindings, readLargestTables, type IndexFinding, type TableStat } from '../src/probes/db-tables.ts';
import { formatBytes, formatDuration, formatPercent } from '../src/core/format.ts';
import { TABLE_NAME_PATTERN } from '../src/actions/runners/vacuum.ts';
import { shortenQuery } from '../src/probes/statements.ts';

const QUERY_CHARS = 120;
const VIEWS = ['overview', 'locks', 'replication', 'tables', 'indexes'] as const;
const LIST_LIMIT = 15;
const PLAIN_TABLE = new RegExp(`^${TABLE_NAME_PATTERN}$`);
// Terminate / Cancel for the first blockers only: a message with dozens of red buttons helps nobody.
const MAX_BLOCKER_BUTTONS = 3;

export default defineInspectCommand({
  name: 'db',
  summary: 'Postgres at a glance: connections, cache hit ratio, size, long transactions, wraparound; /db locks: who blocks whom; /db replication',
  usage: '[locks|replication|tables|indexes]',
  options: {},
  args: z
    .object({ positionals: z.array(z.enum(VIEWS, `must be one of ${VIEWS.join(', ')}`)).max(1, `takes one view: ${VIEWS.join(', ')}`) })
    .transform(({ positionals }) => ({ view: positionals[0] ?? 'overview' })),
  async run(args, { deps }): Promise<Reply> {
    const db = requireDep(deps.db, 'Postgres', deps.missing.postgres);
    if (args.view === 'locks') return locksReply(await readLockConflicts(db), deps);
    if (args.view === 'replication') return replicationReply(await readReplication(db));
    if (args.view === 'tables') return tablesReply(await readLargestTables(db, LIST_LIMIT), deps);
    if (args.view === 'indexes') return indexesReply(await readIndexFindings(db, LIST_LIMIT));
    return overviewReply(db, deps);
  },
});

async function overviewReply(db: Parameters<typeof readOverview>[0], deps: InspectDeps): Promise<Reply> {
  const o = await readOverview(db);
  const before = (await deps.sizeHistory?.compare(o.database, o.sizeBytes, deps.now())) ?? null;
  const growth = before ? { bytes: o.sizeBytes - before.bytes, seconds: (deps.now() - before.at) / 1000 } : null;
  const checks = overviewChecks(o, growth);
  const status = worstCheck(checks);
  const problems = checks.filter((c) => c.reason);
  return {
    title: `Database ${o.database}`,
    status,
    summary: problems.length === 0 ? 'Nothing needs attention.' : problems.map((c) => `${c.label}: ${c.reason}.`).join(' '),
    sections: [
      { heading: 'Readings', fields: fieldsOf(checks) },
      {
        heading: 'Connections by state and application',
        table: { columns: ['state', 'application', 'sessions'], rows: o.byState.map((r) => [r.state, r.application, String(r.count)]) },
      },
    ],
    suggestions: [
      { label: 'Who blocks whom', command: '/db locks' },
      { label: 'Replication', command: '/db replication' },
      { label: 'Tables', command: '/db tables' },
      { label: 'Indexes', command: '/db indexes' },
    ],
    data: { overview: o, checks, growth },
  };
}

function locksReply(sessions: LockSession[], deps: InspectDeps): Reply {
  const waiting = sessions.filter((s) => s.blockedBy.length > 0);
  if (waiting.length === 0) return { title: 'Locks', status: 'ok', summary: 'No session waits for a lock another holds.', data: [] };
  // Blockers waiting for nobody are where a chain starts: ending one frees the rest.
  const roots = sessions.filter((s) => s.blockedBy.length === 0 && s.blocking > 0);
  const buttons: Button[] = roots
    .slice(0, MAX_BLOCKER_BUTTONS)
    .flatMap((s) => [deps.actionButton?.('postgres.terminate', `Terminate ${s.pid}`, { pid: s.pid }), deps.actionButton?.('postgres.cancel', `Cancel ${s.pid}`, { pid: s.pid })])
    .filter((b): b is Button => b !== null && b !== undefined);
  return {
    title: `Locks: ${waiting.length} waiting`,
    status: locksStatus(sessions),
    summary: `${waiting.length} session${waiting.length === 1 ? ' waits' : 's wait'} for a lock; ${roots.length} blocker${roots.length === 1 ? '' : 's'} at the head${roots.length ? `: pid ${roots.map((r) => r.pid).join(', ')}` : ''}.`,
    sections: [
      {
        heading: 'Who blocks whom',
        table: {
          columns: ['pid', 'role', 'user', 'application', 'state', 'waiting / running', 'query'],
          rows: sessions.map((s) => [
            String(s.pid),
            s.blockedBy.length > 0 ? `waits for ${s.blockedBy.join(', ')}` : `blocks ${s.blocking}`,
            s.user ?? '?',
            s.application || '–',
            s.state ?? '?',
            s.querySeconds === null ? '–' : formatDuration(s.querySeconds),
            shortenQuery(s.query, QUERY_CHARS),
          ]),
          rowStatus: sessions.map((s) => (s.blockedBy.length > 0 ? 'warn' : 'fail')),
        },
      },
    ],
    ...(buttons.length > 0 ? { buttons } : {}),
    notes: [
      'String literals are shown as ***. Terminate ends the blocker\'s session (its transaction rolls back); Cancel stops only its current statement. Each needs approval.',
    ],
    data: sessions,
  };
}

function replicationReply(v: ReplicationView): Reply {
  const checks = replicationChecks(v);
  const problems = checks.filter((c) => c.reason);
  const role = v.inRecovery ? 'This server is a standby.' : `This server is a primary with ${v.replicas.length} streaming replica${v.replicas.length === 1 ? '' : 's'} and ${v.slots.length} replication slot${v.slots.length === 1 ? '' : 's'}.`;
  return {
    title: 'Replication',
    status: checks.length === 0 ? 'info' : worstCheck(checks),
    summary: [role, ...problems.map((c) => `${c.reason}.`)].join(' '),
    ...(checks.length > 0 ? { sections: [{ heading: 'Replicas and slots', fields: fieldsOf(checks) }] } : {}),
    data: { replication: v, checks },
  };
}

/** A judged reading as a field; one that is not ok says so beside its value. */
function fieldsOf(checks: readonly DbCheck[]): Array<{ label: string; value: string }> {
  return checks.map((c) => ({ label: c.label, value: c.status === 'warn' || c.status === 'fail' ? `${c.value} (${c.status})` : c.value }));
}

function tablesReply(tables: TableStat[], deps: InspectDeps): Reply {
  const judged = tables.map((t) => ({ t, ...tableStatus(t) }));
  // VACUUM (ANALYZE) offered for the flagged tables Vigil can name plainly; each click only asks.
  const vacuum = judged
    .filter((j) => j.status === 'warn' && PLAIN_TABLE.test(j.t.name))
    .slice(0, MAX_BLOCKER_BUTTONS)
    .flatMap((j) => deps.actionButton?.('postgres.vacuum', `Vacuum ${j.t.name}`, { table: j.t.name }) ?? []);
  const reasons = judged.flatMap((j) => (j.reason ? [j.reason] : []));
  const ago = (s: number | null) => (s === null ? 'never' : `${formatDuration(s)} ago`);
  return {
    title: `Largest tables (${tables.length})`,
    status: tables.length === 0 ? 'info' : worstStatusOf(judged.map((j) => j.status)),
    summary: tables.length === 0 ? 'No user tables in this database.' : reasons.length === 0 ? 'Autovacuum keeps up with every table shown.' : `${reasons.join('; ')}.`,
    ...(tables.length > 0 ? {
      sections: [{
        heading: 'By total size (with indexes and TOAST)',
        table: {
          columns: ['table', 'size', 'live rows', 'dead', 'vacuumed', 'analyzed'],
          rows: tables.map((t) => [t.name, formatBytes(t.totalBytes), String(t.liveRows), formatPercent(t.deadRatio), ago(t.vacuumedSecondsAgo), ago(t.analyzedSecondsAgo)]),
          rowStatus: judged.map((j) => j.status),
        },
      }],
    } : {}),
    ...(vacuum.length > 0 ? { buttons: vacuum } : {}),
    data: tables,
  };
}

function indexesReply(findings: IndexFinding[]): Reply {
  return {
    title: 'Indexes worth a look',
    status: findings.length === 0 ? 'ok' : 'info',
    summary: findings.length === 0 ? 'No unused or duplicate index.' : `${findings.length} index${findings.length === 1 ? '' : 'es'} unused since the statistics were reset, or repeating another: each slows every write and takes space.`,
    ...(findings.length > 0 ? { sections: [{ heading: 'Biggest first', table: { columns: ['index', 'table', 'size', 'scans', 'finding'], rows: findings.map((f) => [f.name, f.table, formatBytes(f.bytes), String(f.scans), f.finding]) } }] } : {}),
    notes: ['Unused means no scan since pg_stat_reset (or a replica may use it): check before dropping. Indexes behind primary keys, unique and exclusion constraints are never listed as unused.'],
    data: findings,
  };
}
