import type pg from 'pg';
import { isBrokenLink } from './pools.ts';

/**
 * Run `work` in one transaction on one pooled connection: committed when it returns, rolled back
 * when it throws (the error goes on to the caller), and the connection goes back unless its link
 * broke.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A silent or cut link would make ROLLBACK wait for its own timeout: drop the connection
    // instead (the server rolls back when it goes).
    broken = isBrokenLink(err);
    if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
    throw err;
  } finally {
    client.release(broken);
  }
}
