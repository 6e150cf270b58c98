import type pg from 'pg';
import type { ActionOutcome } from '../definition.ts';

/** `schema.table`, both plain lower-case identifiers: what /db tables offers a button for. */
export const TABLE_NAME_PATTERN = '[a-z_][a-z0-9_]{0,62}\\.[a-z_][a-z0-9_]{0,62}';

/**
 * VACUUM (ANALYZE) one table. It runs on the read-only probe pool (VACUUM and ANALYZE are allowed
 * in a read-only session: they change no rows), outside any transaction, within the action's own
 * timeout rather than the pool's 5 s statement limit. The table must exist; its name is quoted by
 * the server (format %I), never spliced in as given.
 */
export async function vacuumTable(db: pg.Pool | null, qualified: string, timeoutMs: number): Promise<ActionOutcome> {
  if (!db) return { ok: false, summary: 'Postgres actions need DATABASE_URL, which is not set; nothing changed.', output: '' };
  const [schema = '', table = ''] = qualified.split('.');
  const client = await db.connect();
  try {
    const { rows } = await client.query<{ target: string; dead: string | null; may: boolean; role: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS target, s.n_dead_tup::text AS dead, current_user AS role,
              pg_has_role(current_user, c.relowner, 'MEMBER') OR pg_has_role(current_user, d.datdba, 'MEMBER')
                OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS may
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
         JOIN pg_database d ON d.datname = current_database()
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'm')`,
      [schema, table],
    );
    const found = rows[0];
    if (!found) return { ok: false, summary: `No table ${qualified} in this database; nothing changed.`, output: '' };
    // Without ownership VACUUM only warns and skips the table: say so rather than report it done.
    if (!found.may) return { ok: false, summary: `Refused: the role Vigil uses (${found.role}) does not own ${found.target}, so VACUUM would skip it; nothing changed.`, output: '' };
    const started = performance.now();
    await client.query(`SET statement_timeout = ${Math.max(1000, Math.floor(timeoutMs))}`);
    // node-postgres takes a per-query read timeout (its QueryConfig type does not declare it).
    await client.query({ text: `VACUUM (ANALYZE) ${found.target}`, query_timeout: timeoutMs + 1000 } as pg.QueryConfig);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    return { ok: true, summary: `VACUUM (ANALYZE) ${found.target} done in ${seconds} s (it had ${found.dead ?? '?'} dead row versions).`, output: '', details: { table: found.target, deadBefore: Number(found.dead ?? 0) } };
  } finally {
    await client.query('RESET statement_timeout').catch(() => undefined);
    client.release();
  }
}
