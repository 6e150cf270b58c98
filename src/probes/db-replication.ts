import { selectRows, type Queryable } from '../db/queryable.ts';

/** A standby streaming from this server, as pg_stat_replication sees it. */
export interface Replica {
  name: string;
  address: string | null;
  state: string | null;
  syncState: string | null;
  /** WAL sent but not yet replayed on the standby, in bytes. */
  replayLagBytes: number | null;
  replayLagSeconds: number | null;
}

/** A replication slot and the WAL it keeps from being recycled. */
export interface Slot {
  name: string;
  type: string;
  active: boolean;
  retainedBytes: number | null;
}

export interface ReplicationView {
  /** This server is itself a standby (then it has no WAL position of its own to compare). */
  inRecovery: boolean;
  replicas: Replica[];
  slots: Slot[];
  /** On a standby: how far behind its primary's last replayed transaction, in seconds. */
  standbyDelaySeconds: number | null;
}

/** pg_stat_replication and pg_replication_slots, both readable by pg_monitor. */
export async function readReplication(db: Queryable): Promise<ReplicationView> {
  const [recovery] = await selectRows<{ in_recovery: boolean; delay: number | null }>(
    db,
    `SELECT /* vigil:db replication */ pg_is_in_recovery() AS in_recovery,
            CASE WHEN pg_is_in_recovery() THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS delay`,
  );
  const inRecovery = recovery?.in_recovery === true;
  // On a standby pg_current_wal_lsn() raises: positions are compared only on a primary.
  const current = inRecovery ? 'NULL::pg_lsn' : 'pg_current_wal_lsn()';
  const replicas = await selectRows<{ name: string; address: string | null; state: string | null; sync_state: string | null; lag_bytes: string | null; lag_s: number | null }>(
    db,
    `SELECT /* vigil:db replication */ coalesce(nullif(application_name, ''), '(unnamed)') AS name, client_addr::text AS address, state, sync_state,
            pg_wal_lsn_diff(${current}, replay_lsn)::text AS lag_bytes, extract(epoch FROM replay_lag)::float8 AS lag_s
       FROM pg_stat_replication ORDER BY application_name`,
  );
  const slots = await selectRows<{ slot_name: string; slot_type: string; active: boolean; retained: string | null }>(
    db,
    `SELECT /* vigil:db replication */ slot_name, slot_type, active, pg_wal_lsn_diff(${current}, restart_lsn)::text AS retained
       FROM pg_replication_slots ORDER BY slot_name`,
  );
  const num = (v: string | null) => (v === null ? null : Number(v));
  return {
    inRecovery,
    replicas: replicas.map((r) => ({ name: r.name, address: r.address, state: r.state, syncState: r.sync_state, replayLagBytes: num(r.lag_bytes), replayLagSeconds: r.lag_s })),
    slots: slots.map((s) => ({ name: s.slot_name, type: s.slot_type, active: s.active, retainedBytes: num(s.retained) })),
    standbyDelaySeconds: recovery?.delay ?? null,
  };
}
