import type pg from 'pg';
import type { Counter } from 'prom-client';
import type { CommandRun } from '../core/dispatch.ts';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../log.ts';
import { migrate } from '../db/migrate.ts';
import { recordCommandRuns } from './command-log.ts';

export interface CommandAudit {
  /** Queue one run for the audit table; never delays or fails the reply. */
  record(run: CommandRun): void;
  /** Resolves once every run recorded so far has been written (or given up on). */
  flush(): Promise<void>;
}

/** Postgres caps a statement at 65,535 parameters; 10 per row leaves ample room. */
const MAX_BATCH = 500;

/**
 * Writes command runs to Postgres off the reply's path, one writer at a time: runs that arrive
 * while a write is in flight are batched into the next INSERT, so a burst of commands never
 * floods the pool. The schema is migrated on first use and retried when Postgres was down.
 * A write that fails is logged and counted: the reply has already gone, so this is the boundary.
 */
export function createCommandAudit(deps: { pool: pg.Pool | null; log: Logger; failures: Counter }): CommandAudit {
  let buffer: CommandRun[] = [];
  let writing: Promise<void> | null = null;
  let schemaReady = false;

  async function writeAll(pool: pg.Pool): Promise<void> {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, MAX_BATCH);
      buffer = buffer.slice(batch.length);
      try {
        if (!schemaReady) {
          await migrate(pool);
          schemaReady = true;
        }
        await recordCommandRuns(pool, batch);
      } catch (err) {
        deps.failures.inc(batch.length);
        deps.log.error({ commands: batch.map((r) => r.command), err: describeError(err) }, 'audit write failed');
      }
    }
  }

  return {
    record(run) {
      const pool = deps.pool;
      if (!pool) return;
      buffer.push(run);
      writing ??= writeAll(pool).finally(() => {
        writing = null;
      });
    },
    async flush() {
      while (writing) await writing;
    },
  };
}
