import type pg from 'pg';
import type { Counter } from 'prom-client';
import type { CommandRun } from '../core/dispatch.ts';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../log.ts';
import { migrate } from '../db/migrate.ts';
import { recordCommandRun } from './command-log.ts';

export interface CommandAudit {
  /** Queue one run for the audit table; never delays or fails the reply. */
  record(run: CommandRun): void;
  flush(): Promise<void>;
}

/**
 * Writes command runs to Postgres off the reply's path. The schema is migrated on first use and
 * retried on later runs when Postgres was down, so a bot started during an outage catches up.
 * A write that fails is logged and counted: the reply has already gone, so this is the boundary.
 */
export function createCommandAudit(deps: { pool: pg.Pool | null; log: Logger; failures: Counter }): CommandAudit {
  const pending = new Set<Promise<void>>();
  let schema: Promise<unknown> | null = null;

  function ensureSchema(pool: pg.Pool): Promise<unknown> {
    schema ??= migrate(pool).catch((err: unknown) => {
      schema = null;
      throw err;
    });
    return schema;
  }

  return {
    record(run) {
      const pool = deps.pool;
      if (!pool) return;
      const write = ensureSchema(pool)
        .then(() => recordCommandRun(pool, run))
        .catch((err: unknown) => {
          deps.failures.inc();
          deps.log.error({ command: run.command, err: describeError(err) }, 'audit write failed');
        })
        .finally(() => pending.delete(write));
      pending.add(write);
    },
    async flush() {
      await Promise.all([...pending]);
    },
  };
}
