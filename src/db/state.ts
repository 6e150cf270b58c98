import type pg from 'pg';
import { describeError } from '../core/errors.ts';
import { migrate, STATE_SCHEMA } from './migrate.ts';

/** SQLSTATEs meaning "this role may not write here": retrying will not help. */
const NOT_WRITABLE = new Set(['42501', '25006']);

export type StateStatus =
  | { kind: 'ready'; pool: pg.Pool; applied: number[] }
  /** Postgres did not answer; the schema is migrated on the next use. */
  | { kind: 'unreachable'; why: string }
  /** The role may not create or write Vigil's schema: state (the audit trail) stays off. */
  | { kind: 'off'; why: string };

/**
 * Vigil's own state: the `vigil` schema in VIGIL_DATABASE_URL (or, without it, in the inspected
 * database). Migrated once at start-up; when Postgres was down then, on first use instead.
 */
export interface StateStore {
  /** The writable pool, or null when there is no database at all. */
  pool: pg.Pool | null;
  /** Migrate if not done yet; resolves with the outcome (never rejects). */
  ready(): Promise<StateStatus>;
  /** The last outcome without touching the database. */
  status(): StateStatus;
}

export function createStateStore(pool: pg.Pool | null, missingWhy = 'no database configured'): StateStore {
  let status: StateStatus = pool ? { kind: 'unreachable', why: 'not migrated yet' } : { kind: 'off', why: missingWhy };
  let inFlight: Promise<StateStatus> | null = null;

  async function attempt(db: pg.Pool): Promise<StateStatus> {
    try {
      return { kind: 'ready', pool: db, applied: await migrate(db) };
    } catch (err) {
      const why = describeError(err);
      return NOT_WRITABLE.has(sqlState(err) ?? '') ? { kind: 'off', why } : { kind: 'unreachable', why };
    }
  }

  return {
    pool,
    status: () => status,
    ready() {
      if (!pool || status.kind !== 'unreachable') return Promise.resolve(status);
      // Concurrent callers share one migration attempt.
      inFlight ??= attempt(pool).then((next) => {
        status = next;
        inFlight = null;
        return next;
      });
      return inFlight;
    },
  };
}

/** The SQLSTATE of a pg error, looking through the migration's wrapping error. */
function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** The start-up line saying where state lives, or that the audit trail is off and why. */
export function describeState(status: StateStatus, where: string): string {
  switch (status.kind) {
    case 'ready':
      return `State: schema ${STATE_SCHEMA} in ${where}${status.applied.length > 0 ? ` (applied migrations ${status.applied.join(', ')})` : ''}`;
    case 'unreachable':
      return `State: ${where} did not answer (${status.why}); the audit trail starts once it does`;
    case 'off':
      return `State: OFF, the audit trail is not kept: ${status.why}. Set VIGIL_DATABASE_URL to a database where Vigil may create schema ${STATE_SCHEMA}, or have its owner run \`npx vigil migrate\` once and grant this role USAGE on schema ${STATE_SCHEMA}, SELECT, INSERT, UPDATE on its tables and USAGE on its sequences.`;
  }
}
