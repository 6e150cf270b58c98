/**
 * The smallest database surface Vigil's modules need (probes, audit, outbox). A pg Pool satisfies it;
 * tests pass the real pool, and nothing that takes it depends on the driver.
 */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Run a query whose row shape the SQL itself fixes. Rows come from our own SQL, not from users. */
export async function selectRows<R>(db: Queryable, text: string, values?: unknown[]): Promise<R[]> {
  const result = await db.query(text, values);
  return result.rows as R[];
}
