import pg from 'pg';

export interface PoolOptions {
  /** Shown in pg_stat_activity, so a DBA sees which Vigil connection is which. */
  name: string;
  max: number;
  /** Every transaction read-only (`default_transaction_read_only`): for probes and commands. */
  readOnly?: boolean;
  /** Called when a client loses its server; without a listener that error crashes the process. */
  onIdleError: (err: Error) => void;
}

const STATEMENT_TIMEOUT_MS = 5000;

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
    statement_timeout: STATEMENT_TIMEOUT_MS,
    // The server's statement_timeout cannot help when the link itself went silent: the client
    // gives up too, a little later, and the pool then destroys that connection (see isBrokenLink).
    query_timeout: STATEMENT_TIMEOUT_MS + 1000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: opts.name,
    // Enforced by the server, not by convention: a read-only pool cannot write even by mistake.
    ...(opts.readOnly ? { options: '-c default_transaction_read_only=on' } : {}),
  });
  pool.on('error', opts.onIdleError);
  // pg-pool listens for errors only on idle clients: a reset while a client is checked out (in a
  // transaction) would otherwise be an uncaught 'error' event, which ends the process. The query
  // in flight gets the error anyway; releasing the client then drops it.
  pool.on('connect', (client) => client.on('error', opts.onIdleError));
  return pool;
}

/**
 * An error from the link rather than from the server (pg's query timeout, a reset or cut
 * connection): the connection may be wedged, so it is destroyed instead of going back to the pool.
 * Server errors (a SQLSTATE) and the caller's own errors leave it in use.
 */
export function isBrokenLink(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true; // ECONNRESET, EPIPE, ETIMEDOUT…
  return /Query read timeout|Connection terminated|connection error|not queryable/i.test(err.message);
}
