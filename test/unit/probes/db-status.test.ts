import { describe, expect, it } from 'vitest';
import { XID_WRAPAROUND, type DbOverview, type LockSession } from '../../../src/probes/db-readings.ts';
import { locksStatus, overviewChecks, replicationChecks, tableStatus, worstCheck } from '../../../src/probes/db-status.ts';
import type { ReplicationView } from '../../../src/probes/db-replication.ts';

const calm: DbOverview = {
  database: 'app',
  sizeBytes: 50 * 1024 * 1024,
  connections: 10,
  maxConnections: 100,
  byState: [],
  cacheHitRatio: 0.99,
  blockReads: 1_000_000,
  deadlocks: 0,
  tempFiles: 0,
  tempBytes: 0,
  autovacuumWorkers: 0,
  xidAge: 1000,
  longestTransaction: null,
  longestIdleInTransaction: null,
};
const statusOf = (o: Partial<DbOverview>, label: string) => overviewChecks({ ...calm, ...o }).find((c) => c.label === label)?.status;

describe('/db judged', () => {
  it('is ok when nothing needs a look', () => {
    expect(worstCheck(overviewChecks(calm))).toBe('ok');
  });

  it('warns from 80 % of max_connections and fails from 95 %', () => {
    expect(statusOf({ connections: 79 }, 'Connections')).toBe('ok');
    expect(statusOf({ connections: 80 }, 'Connections')).toBe('warn');
    expect(statusOf({ connections: 95 }, 'Connections')).toBe('fail');
  });

  it('warns on a cache hit ratio under 90 %, once enough was read to mean something', () => {
    expect(statusOf({ cacheHitRatio: 0.85 }, 'Cache hit ratio')).toBe('warn');
    expect(statusOf({ cacheHitRatio: 0.85, blockReads: 500 }, 'Cache hit ratio')).toBe('ok');
    expect(statusOf({ cacheHitRatio: null, blockReads: 0 }, 'Cache hit ratio')).toBe('info');
  });

  it('warns on wraparound from half the headroom and fails from three quarters', () => {
    expect(statusOf({ xidAge: Math.floor(XID_WRAPAROUND * 0.49) }, 'Transaction ID age')).toBe('ok');
    expect(statusOf({ xidAge: Math.floor(XID_WRAPAROUND * 0.5) }, 'Transaction ID age')).toBe('warn');
    expect(statusOf({ xidAge: Math.floor(XID_WRAPAROUND * 0.75) }, 'Transaction ID age')).toBe('fail');
  });

  it('warns on an hour-long transaction and a client idle in one for 5 minutes, and says why', () => {
    expect(statusOf({ longestTransaction: { pid: 7, seconds: 3599, state: 'active' } }, 'Longest transaction')).toBe('ok');
    expect(statusOf({ longestTransaction: { pid: 7, seconds: 3600, state: 'active' } }, 'Longest transaction')).toBe('warn');
    const idle = overviewChecks({ ...calm, longestIdleInTransaction: { pid: 9, seconds: 300 } }).find((c) => c.label === 'Idle in transaction');
    expect(idle).toMatchObject({ status: 'warn', value: '5m (pid 9)', reason: expect.stringContaining('transaction open') });
  });

  it('warns while a session waits for a lock, and fails once one has waited a minute', () => {
    const session = (pid: number, blockedBy: number[], querySeconds: number): LockSession => ({ pid, user: 'app', application: 'api', state: 'active', blockedBy, blocking: 0, waitEvent: null, querySeconds, transactionSeconds: querySeconds, query: '' });
    expect(locksStatus([])).toBe('ok');
    expect(locksStatus([session(1, [], 500), session(2, [1], 59)])).toBe('warn');
    expect(locksStatus([session(1, [], 500), session(2, [1], 60)])).toBe('fail');
  });

  it('judges replicas by replay lag, inactive slots by the WAL they keep, and a standby by its delay', () => {
    const GiB = 1024 ** 3;
    const view = (o: Partial<ReplicationView>): ReplicationView => ({ inRecovery: false, replicas: [], slots: [], standbyDelaySeconds: null, ...o });
    const replica = (replayLagSeconds: number, replayLagBytes: number) => ({ name: 'db-2', address: '10.0.0.2', state: 'streaming', syncState: 'async', replayLagSeconds, replayLagBytes });
    const slot = (active: boolean, retainedBytes: number) => ({ name: 'old', type: 'physical', active, retainedBytes });
    expect(replicationChecks(view({ replicas: [replica(1, 1000)] })).map((c) => c.status)).toEqual(['ok']);
    expect(replicationChecks(view({ replicas: [replica(30, 1000)] })).map((c) => c.status)).toEqual(['warn']);
    expect(replicationChecks(view({ replicas: [replica(1, 2 * GiB)] })).map((c) => c.status)).toEqual(['fail']);
    expect(replicationChecks(view({ slots: [slot(true, 20 * GiB)] })).map((c) => c.status)).toEqual(['ok']);
    expect(replicationChecks(view({ slots: [slot(false, 2 * GiB)] }))[0]).toMatchObject({ status: 'warn', reason: expect.stringContaining('inactive slot old keeps 2.0 GiB') });
    expect(replicationChecks(view({ slots: [slot(false, 11 * GiB)] })).map((c) => c.status)).toEqual(['fail']);
    expect(replicationChecks(view({ inRecovery: true, standbyDelaySeconds: 400 })).map((c) => [c.label, c.status])).toEqual([['Standby delay', 'fail']]);
  });

  it('flags a busy table with a fifth dead row versions, or never analyzed; small tables are left alone', () => {
    const table = (liveRows: number, deadRows: number, analyzedSecondsAgo: number | null = 60) => ({ name: 'public.t', totalBytes: 1, liveRows, deadRows, deadRatio: deadRows / (liveRows + deadRows), vacuumedSecondsAgo: 60, analyzedSecondsAgo });
    expect(tableStatus(table(9000, 900)).status).toBe('ok');
    expect(tableStatus(table(8000, 2000))).toEqual({ status: 'warn', reason: 'public.t: 20% dead row versions (VACUUM is behind)' });
    expect(tableStatus(table(100, 400)).status).toBe('ok');
    expect(tableStatus(table(20_000, 0, null))).toEqual({ status: 'warn', reason: 'public.t: never analyzed (the planner guesses)' });
  });
});
