import { formatBytes, formatDuration, formatPercent } from '../core/format.ts';
import { worstStatus, type Status } from '../core/reply.ts';
import { XID_WRAPAROUND, type DbOverview, type LockSession } from './db-readings.ts';

/** One judged reading of /db: what it is, how it reads, and why it is not ok when it is not. */
export interface DbCheck {
  label: string;
  value: string;
  status: Status;
  reason?: string;
}

// The seeds' runbooks' limits: connections past 80 % need a look, past 95 % new clients fail soon;
// autovacuum's emergency freeze starts at 200M, wraparound shutdown nears past 75 % of 2^31.
const LIMITS = {
  connections: { warn: 0.8, fail: 0.95 },
  cacheHit: { warn: 0.9, minReads: 10_000 },
  xid: { warn: 0.5, fail: 0.75 },
  idleInTransactionS: 300,
  transactionS: 3600,
  lockWaitS: 60,
} as const;

export function overviewChecks(o: DbOverview): DbCheck[] {
  const used = o.maxConnections > 0 ? o.connections / o.maxConnections : 0;
  const xid = o.xidAge / XID_WRAPAROUND;
  const checks: DbCheck[] = [
    judged('Connections', `${o.connections} of ${o.maxConnections} (${formatPercent(used)})`, used >= LIMITS.connections.fail ? 'fail' : used >= LIMITS.connections.warn ? 'warn' : 'ok', `${formatPercent(used)} of max_connections in use`),
    o.cacheHitRatio === null
      ? judged('Cache hit ratio', 'no reads yet', 'info')
      : judged(
          'Cache hit ratio',
          formatPercent(o.cacheHitRatio),
          o.blockReads >= LIMITS.cacheHit.minReads && o.cacheHitRatio < LIMITS.cacheHit.warn ? 'warn' : 'ok',
          `below ${formatPercent(LIMITS.cacheHit.warn)}: reads go to disk (shared_buffers, missing indexes)`,
        ),
    judged('Size', formatBytes(o.sizeBytes), 'info'),
    o.longestTransaction
      ? judged(
          'Longest transaction',
          `${formatDuration(o.longestTransaction.seconds)} (pid ${o.longestTransaction.pid}, ${o.longestTransaction.state ?? '?'})`,
          o.longestTransaction.seconds >= LIMITS.transactionS ? 'warn' : 'ok',
          'open for over an hour: it holds back vacuum',
        )
      : judged('Longest transaction', 'none open', 'ok'),
    o.longestIdleInTransaction
      ? judged(
          'Idle in transaction',
          `${formatDuration(o.longestIdleInTransaction.seconds)} (pid ${o.longestIdleInTransaction.pid})`,
          o.longestIdleInTransaction.seconds >= LIMITS.idleInTransactionS ? 'warn' : 'ok',
          'a client left a transaction open: its locks and snapshot stay',
        )
      : judged('Idle in transaction', 'none', 'ok'),
    judged('Deadlocks', String(o.deadlocks), 'info'),
    judged('Temp files', `${o.tempFiles} (${formatBytes(o.tempBytes)})`, 'info'),
    judged('Autovacuum workers', String(o.autovacuumWorkers), 'info'),
    judged('Transaction ID age', `${o.xidAge.toLocaleString('en-US')} (${formatPercent(xid)} of wraparound)`, xid >= LIMITS.xid.fail ? 'fail' : xid >= LIMITS.xid.warn ? 'warn' : 'ok', 'freeze old tables (VACUUM FREEZE) before wraparound'),
  ];
  return checks;
}

/** Waiting at all: warn; waiting a minute or more: fail (someone is stuck behind it). */
export function locksStatus(sessions: readonly LockSession[]): Status {
  const waits = sessions.filter((s) => s.blockedBy.length > 0).map((s) => s.querySeconds ?? 0);
  if (waits.length === 0) return 'ok';
  return Math.max(...waits) >= LIMITS.lockWaitS ? 'fail' : 'warn';
}

export function worstCheck(checks: readonly DbCheck[]): Status {
  return worstStatus(checks.map((c) => c.status));
}

function judged(label: string, value: string, status: Status, reason?: string): DbCheck {
  return { label, value, status, ...(status === 'warn' || status === 'fail' ? { reason } : {}) };
}
