import type { Config } from '../config/load.ts';
import { describeError } from '../core/errors.ts';
import { EXIT } from '../core/exit-codes.ts';
import { redactUrl } from '../core/redact.ts';
import { migrate, STATE_SCHEMA } from './migrate.ts';
import { createPool } from './pools.ts';

/** `vigil migrate`, as `vigil --help` lists it. */
export const MIGRATE_TOOL = {
  usage: 'vigil migrate',
  summary: "Apply Vigil's SQL migrations to its state database (VIGIL_DATABASE_URL, else DATABASE_URL) and exit",
} as const;

/**
 * `vigil migrate`: apply Vigil's migrations to its state database and exit. For deployments where
 * the bot's own role may write rows but not create tables: an owner runs this once per release
 * (with that owner's URL in VIGIL_DATABASE_URL or DATABASE_URL), then grants the bot's role
 * USAGE on schema vigil, SELECT, INSERT, UPDATE on its tables and USAGE on its sequences.
 */
export async function runMigrateTool(config: Config, out: (line: string) => void): Promise<number> {
  const url = config.env.VIGIL_DATABASE_URL ?? config.env.DATABASE_URL;
  if (!url) {
    out('vigil migrate: set VIGIL_DATABASE_URL (or DATABASE_URL) to the database that holds Vigil\'s state, as a role that may create schema vigil.');
    return EXIT.USAGE;
  }
  const pool = createPool(url, { name: 'vigil-migrate', max: 1, onIdleError: () => undefined });
  try {
    const applied = await migrate(pool);
    out(
      applied.length > 0
        ? `Applied migrations ${applied.join(', ')} to schema ${STATE_SCHEMA} in ${redactUrl(url)}.`
        : `Schema ${STATE_SCHEMA} in ${redactUrl(url)} is up to date; nothing to apply.`,
    );
    return EXIT.OK;
  } catch (err) {
    out(`vigil migrate failed on ${redactUrl(url)}: ${describeError(err)}`);
    return EXIT.FAILED;
  } finally {
    await pool.end();
  }
}
