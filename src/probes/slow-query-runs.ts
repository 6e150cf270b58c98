import { createBoundedSemaphore, type BoundedSemaphore } from '../core/bounded-semaphore.ts';
import { AppError } from '../core/errors.ts';
import { createSingleFlight, type SingleFlight } from '../core/single-flight.ts';
import type { Queryable } from '../db/queryable.ts';
import { createStatementReader, type StatementReader } from './statements.ts';

/**
 * /slowqueries runs are rationed per pool: of the probe pool's 10 connections, at most
 * `PERMITS` serve /slowqueries at a time (each run holds one connection at a time, its queries
 * run one after the other), so /health and /readyz always find one free. A run waits at most
 * `MAX_WAIT_MS` for its turn, then the user reads "busy" within a second, long before Slack's
 * deferred answer would matter.
 */
export const SLOWQUERIES_PERMITS = 3;
export const SLOWQUERIES_MAX_WAIT_MS = 1000;
// The wait bound is what the user feels; this one only caps memory in a pathological storm.
const MAX_WAITERS = 1000;
export const BUSY_MESSAGE = 'Postgres is busy, try again in a moment.';

export interface SlowQueryRuns {
  reader: StatementReader;
  /**
   * Run `work` for `key` (the normalised arguments): joins a run already in progress for the same
   * key, otherwise waits its turn for a permit. Rejects with a `timeout` AppError saying Postgres
   * is busy when no permit, or no pool connection, came in time.
   */
  run<T>(key: string, work: (reader: StatementReader) => Promise<T>): Promise<T>;
  readonly gate: BoundedSemaphore;
}

export function busyError(cause?: unknown): AppError {
  return new AppError('timeout', BUSY_MESSAGE, undefined, cause === undefined ? undefined : { cause });
}

/**
 * node-pg's message when `connectionTimeoutMillis` passes while waiting for a pooled connection
 * (it has no error code): the pool is exhausted by other users, which the user reads as busy.
 */
export function isPoolWaitTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'timeout exceeded when trying to connect';
}

// Keyed by the pool itself: the gate rations that pool's connections, and every command bound to
// the same pool (replica-wide, one container) shares it without a new dependency in InspectDeps.
const byPool = new WeakMap<Queryable, SlowQueryRuns>();

export function slowQueryRunsFor(db: Queryable): SlowQueryRuns {
  let runs = byPool.get(db);
  if (!runs) {
    runs = createSlowQueryRuns(db);
    byPool.set(db, runs);
  }
  return runs;
}

function createSlowQueryRuns(db: Queryable): SlowQueryRuns {
  const reader = createStatementReader(db);
  // Results differ by type per caller (statements, fallback): one flight map of unknown results.
  const flights: SingleFlight<unknown> = createSingleFlight<unknown>();
  const gate = createBoundedSemaphore({ permits: SLOWQUERIES_PERMITS, maxWaitMs: SLOWQUERIES_MAX_WAIT_MS, maxWaiters: MAX_WAITERS, busy: () => busyError() });
  return {
    reader,
    gate,
    run<T>(key: string, work: (r: StatementReader) => Promise<T>): Promise<T> {
      const shared = flights.run(key, () =>
        gate.run(async () => {
          try {
            return await work(reader);
          } catch (err) {
            throw isPoolWaitTimeout(err) ? busyError(err) : err;
          }
        }),
      );
      // Sound: a key is always run with the same `work`, so its flight resolves to a T.
      return shared as Promise<T>;
    },
  };
}
