import { formatBytes, formatDuration, formatPercent } from '../core/format.ts';
import { worstStatus, type Status } from '../core/reply.ts';
import { XID_WRAPAROUND, type DbOverview, type LockSession } from './db-readings.ts';
import type { ReplicationView } from './db-replication.ts';
import type { TableStat } from './db-tables.ts';

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
  // A standby minutes behind serves stale reads; an inactive slot keeps WAL until the disk fills.
  replayLagS: { warn: 30, fail: 300 },
  replayLagBytes: { warn: 64 * 1024 ** 2, fail: 1024 ** 3 },
  slotRetainedBytes: { warn: 1024 ** 3, fail: 10 * 1024 ** 3 },
  // autovacuum's default scale factor is 0.2: past it on a table of any size, it is falling behind.
  deadRatio: 0.2,
  busyTableRows: 10_000,
} as const;

/** `growth`: since the size /db kept earlier (see db-size-history.ts), when there is one. */
export function overviewChecks(o: DbOverview, growth: { bytes: number; seconds: number } | null = null): DbCheck[] {
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
    judged('Size', growth ? `${formatBytes(o.sizeBytes)} (${growth.bytes < 0 ? '−' : '+'}${formatBytes(Math.abs(growth.bytes))} in the last ${formatDuration(growth.seconds)})` : formatBytes(o.sizeBytes), 'info'),
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

/** Each replica, slot and (on a standby) the delay, judged; the reasons say which and how far. */
export function replicationChecks(v: ReplicationView): DbCheck[] {
  const by = (value: number | null, limits: { warn: number; fail: number }): Status => (value === null ? 'ok' : value >= limits.fail ? 'fail' : value >= limits.warn ? 'warn' : 'ok');
  const checks: DbCheck[] = v.replicas.map((r) => {
    const status = worstStatus([by(r.replayLagSeconds, LIMITS.replayLagS), by(r.replayLagBytes, LIMITS.replayLagBytes)]);
    const lag = `${r.replayLagBytes === null ? '?' : formatBytes(r.replayLagBytes)} behind, replay lag ${r.replayLagSeconds === null ? '0s' : formatDuration(r.replayLagSeconds)}`;
    return judged(`Replica ${r.name}`, `${r.state ?? '?'} (${r.syncState ?? '?'}), ${lag}`, status, `replica ${r.name} is ${lag}`);
  });
  for (const slot of v.slots) {
    const status = slot.active ? 'ok' : by(slot.retainedBytes, LIMITS.slotRetainedBytes);
    const kept = slot.retainedBytes === null ? 'unknown WAL' : `${formatBytes(slot.retainedBytes)} of WAL`;
    checks.push(judged(`Slot ${slot.name}`, `${slot.type}, ${slot.active ? 'active' : 'inactive'}, keeps ${kept}`, status, `inactive slot ${slot.name} keeps ${kept}: drop it or bring its consumer back before the disk fills`));
  }
  if (v.inRecovery) {
    checks.push(judged('Standby delay', v.standbyDelaySeconds === null ? 'nothing replayed yet' : formatDuration(v.standbyDelaySeconds), by(v.standbyDelaySeconds, LIMITS.replayLagS), 'this standby is behind its primary'));
  }
  return checks;
}

/** A table autovacuum is behind on (a fifth dead row versions), or a big one never analyzed. */
export function tableStatus(t: TableStat): { status: Status; reason?: string } {
  if (t.liveRows + t.deadRows < LIMITS.busyTableRows) return { status: 'ok' };
  if (t.deadRatio >= LIMITS.deadRatio) return { status: 'warn', reason: `${t.name}: ${formatPercent(t.deadRatio)} dead row versions (VACUUM is behind)` };
  if (t.analyzedSecondsAgo === null) return { status: 'warn', reason: `${t.name}: never analyzed (the planner guesses)` };
  return { status: 'ok' };
}

export function worstCheck(checks: readonly DbCheck[]): Status {
  return worstStatus(checks.map((c) => c.status));
}

function judged(label: string, value: string, status: Status, reason?: string): DbCheck {
  return { label, value, status, ...(status === 'warn' || status === 'fail' ? { reason } : {}) };
}
