import pg from 'pg';

export interface PoolOptions {
  /** Shown in pg_stat_activity, so a DBA sees which Vigil connection is which. */
  name: string;
  max: number;
  /** Every transaction read-only (`default_transaction_read_only`): for probes and commands. */
  readOnly?: boolean;
  /** Called when an idle client loses its server; without a listener that error crashes the process. */
  onIdleError: (err: Error) => void;
}

/**
 * Every Postgres pool Vigil (and its tests) opens is built here, so the fail-fast settings are the
 * same everywhere: a probe waiting 30 s for a connection is worse than a clear "unreachable".
 */
export function createPool(url: string, opts: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max,
    connectionTimeoutMillis: 1500,
    idleTimeoutMillis: 30_000,
    statement_timeout: 5000,
    application_name: opts.name,
    // Enforced by the server, not by convention: a read-only pool cannot write even by mistake.
    ...(opts.readOnly ? { options: '-c default_transaction_read_only=on' } : {}),
  });
  pool.on('error', opts.onIdleError);
  return pool;
}
