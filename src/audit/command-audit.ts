import type { Counter } from 'prom-client';
import type { CommandRun } from '../core/dispatch.ts';
import { describeError } from '../core/errors.ts';
import type { StateStore } from '../db/state.ts';
import type { Logger } from '../log.ts';
import { recordCommandRuns } from './command-log.ts';

export interface CommandAudit {
  /** Queue one run for the audit trail; never delays or fails the reply. */
  record(run: CommandRun): void;
  /** Resolves once every run recorded so far has been written (or given up on). */
  flush(): Promise<void>;
}

/** Rows per INSERT (one statement over arrays whatever the size): bounds a statement's size and lock time. */
const MAX_BATCH = 500;

/**
 * Writes command runs to the audit chain (events of kind `command`, src/audit/chain.ts) off the
 * reply's path, one writer at a time: runs that arrive while a write is in flight are batched into
 * the next append, so a burst of commands never floods the pool or queues on the chain's lock.
 * With state off (a read-only role and no VIGIL_DATABASE_URL) runs are not kept; start-up said so
 * once. A write that fails is logged and counted: the reply has already gone, so this is the
 * boundary.
 */
export function createCommandAudit(deps: { state: StateStore; log: Logger; failures: Counter }): CommandAudit {
  let buffer: CommandRun[] = [];
  let writing: Promise<void> | null = null;

  async function writeAll(): Promise<void> {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, MAX_BATCH);
      buffer = buffer.slice(batch.length);
      const state = await deps.state.ready();
      if (state.kind === 'off') continue;
      try {
        if (state.kind === 'unreachable') throw new Error(state.why);
        await recordCommandRuns(state.pool, batch);
      } catch (err) {
        deps.failures.inc(batch.length);
        deps.log.error({ commands: batch.map((r) => r.command), err: describeError(err) }, 'audit write failed');
      }
    }
  }

  return {
    record(run) {
      if (deps.state.status().kind === 'off') return;
      buffer.push(run);
      writing ??= writeAll().finally(() => {
        writing = null;
      });
    },
    async flush() {
      while (writing) await writing;
    },
  };
}
