import { randomUUID } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import { describeError } from '../core/errors.ts';
import type { StateStore } from '../db/state.ts';
import type { Logger } from '../log.ts';
import type { AuditSpool } from './audit-spool.ts';
import { recordAuditEvents, storedWriteKeys, type AuditEvent, type AuditKey } from './chain.ts';

/**
 * Writes audit events that go with no other change (command runs) off the reply's path, and loses
 * none of them:
 * - one writer at a time; events arriving meanwhile are batched into the next append;
 * - a failed write is retried with backoff until Postgres is back (the batch stays at the head);
 * - a row Postgres refuses (a data error) is isolated by halving the batch, and stored as a
 *   `rejected` event in its place, so it never costs its neighbours;
 * - past `memoryLimit` waiting events, new ones go to the disk spool (src/audit/audit-spool.ts),
 *   and keep going there until it is replayed, so the order is kept;
 * - `close` writes what it can within its deadline and spools the rest.
 */
export interface AuditWriter {
  /** Queue one event; never delays or fails the caller. */
  record(event: AuditEvent): void;
  /** Resolves once everything recorded so far is in Postgres (waits through an outage). */
  flush(): Promise<void>;
  /** Write what can be written within `deadlineMs`, spool the rest to disk, and stop. */
  close(deadlineMs?: number): Promise<void>;
  status(): AuditWriterStatus;
}

export interface AuditWriterStatus {
  /** Waiting in memory. */
  queued: number;
  /** Waiting on disk. */
  spooled: number;
  /** When writes started failing (epoch ms); null while they succeed. */
  failingSince: number | null;
  lastError: string | null;
}

export interface AuditWriterDeps {
  state: StateStore;
  /** VIGIL_AUDIT_KEY: rows are hashed with it (HMAC) when set. */
  key?: AuditKey;
  log: Logger;
  registry: Registry;
  /** Null: no disk (tests of memory alone); events past the memory limit are then dropped, counted. */
  spool: AuditSpool | null;
  memoryLimit?: number;
  /** The spool's bound; past it events are dropped, counted and logged. */
  spoolMaxBytes?: number;
  /** Wait before retry n (from 0). */
  backoffMs?: (attempt: number) => number;
  now?: () => number;
}

/** Rows per INSERT (one statement over arrays whatever the size): bounds a statement's size and lock time. */
const MAX_BATCH = 500;
const DEFAULT_MEMORY_LIMIT = 10_000;
const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;
const defaultBackoff = (attempt: number) => Math.min(100 * 2 ** attempt, 5000);

export function createAuditWriter(deps: AuditWriterDeps): AuditWriter {
  const memoryLimit = deps.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
  const spoolMaxBytes = deps.spoolMaxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
  const backoff = deps.backoffMs ?? defaultBackoff;
  const now = deps.now ?? Date.now;
  const metrics = auditMetrics(deps.registry, () => ({ queued: memory.length, spooled: deps.spool?.pending() ?? 0 }));

  let memory: AuditEvent[] = [];
  let writing: Promise<void> | null = null;
  let failingSince: number | null = null;
  let lastError: string | null = null;
  let lastLoggedError = '';
  /** Set by close: stop retrying after the current attempt. */
  let abandon = false;
  let wake: (() => void) | null = null;

  function spoolOrDrop(events: AuditEvent[], where: 'append' | 'prepend' = 'append'): void {
    if (events.length === 0) return;
    if (deps.spool && deps.spool.bytes() < spoolMaxBytes) {
      try {
        if (where === 'append') deps.spool.append(events);
        else deps.spool.prepend(events);
        metrics.spooled.inc(events.length);
        return;
      } catch (err) {
        deps.log.error({ err: describeError(err) }, 'audit spool append failed');
      }
    }
    metrics.dropped.inc(events.length);
    deps.log.error({ events: events.length, kinds: [...new Set(events.map((e) => e.kind))] }, 'audit events dropped: memory and spool are full');
  }

  /** The oldest waiting events: memory first (it holds what came before the spool began). */
  function nextBatch(): { events: AuditEvent[]; from: 'memory' | 'spool' } | null {
    if (memory.length > 0) return { events: memory.slice(0, MAX_BATCH), from: 'memory' };
    const spooled = deps.spool?.peek(MAX_BATCH) ?? [];
    return spooled.length > 0 ? { events: spooled, from: 'spool' } : null;
  }

  async function drain(): Promise<void> {
    let attempt = 0;
    for (let batch = nextBatch(); batch && !abandon; batch = nextBatch()) {
      const state = await deps.state.ready();
      if (state.kind === 'off') {
        // Said once at start; nothing can be kept.
        if (batch.from === 'memory') memory = memory.slice(batch.events.length);
        else deps.spool?.consume(batch.events.length);
        continue;
      }
      try {
        if (state.kind === 'unreachable') throw new Error(state.why);
        const pool = state.pool;
        // After a failure the last attempt may have committed without us hearing back: skip what it stored.
        const stored = attempt > 0 ? await storedWriteKeys(pool, batch.events.flatMap((e) => (e.writeKey ? [e.writeKey] : []))) : null;
        const unwritten = stored?.size ? batch.events.filter((e) => !e.writeKey || !stored.has(e.writeKey)) : batch.events;
        await writeIsolating(unwritten, (events) => recordAuditEvents(pool, events, deps.key ?? null));
        if (batch.from === 'memory') memory = memory.slice(batch.events.length);
        else deps.spool?.consume(batch.events.length);
        metrics.written.inc(batch.events.length);
        if (failingSince !== null) deps.log.info({ failedForMs: now() - failingSince }, 'audit writes recovered');
        failingSince = null;
        lastError = null;
        lastLoggedError = '';
        attempt = 0;
      } catch (err) {
        lastError = describeError(err);
        failingSince ??= now();
        metrics.failures.inc(batch.events.length);
        if (lastError !== lastLoggedError) {
          deps.log.error({ err: lastError, waiting: memory.length + (deps.spool?.pending() ?? 0) }, 'audit write failed; retrying');
          lastLoggedError = lastError;
        }
        await sleep(backoff(attempt++));
      }
    }
  }

  /** Write `events`; a data error splits the batch until the refused row is alone, then stores a stand-in. */
  async function writeIsolating(events: AuditEvent[], write: (events: AuditEvent[]) => Promise<void>): Promise<void> {
    try {
      await write(events);
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (events.length > 1) {
        const half = Math.ceil(events.length / 2);
        await writeIsolating(events.slice(0, half), write);
        await writeIsolating(events.slice(half), write);
        return;
      }
      const [refused] = events;
      if (!refused) return;
      metrics.rejected.inc();
      deps.log.error({ kind: refused.kind, subject: refused.subject, err: describeError(err) }, 'audit event refused by Postgres; stored as rejected');
      await write([rejectedStandIn(refused, err)]).catch((again: unknown) => {
        if (!isDataError(again)) throw again;
        metrics.dropped.inc();
      });
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      wake = null;
    });
  }

  function startDraining(): Promise<void> {
    writing ??= drain().finally(() => {
      writing = null;
      // Events recorded while the last attempt was being given up on.
      if (!abandon && (memory.length > 0 || (deps.spool?.pending() ?? 0) > 0)) void startDraining();
    });
    return writing;
  }

  if ((deps.spool?.pending() ?? 0) > 0) {
    deps.log.warn({ events: deps.spool?.pending() }, 'replaying audit events spooled to disk by an earlier run');
    void startDraining();
  }

  return {
    record(recorded) {
      if (deps.state.status().kind === 'off') return;
      const event = recorded.writeKey ? recorded : { ...recorded, writeKey: randomUUID() };
      if (abandon) return spoolOrDrop([event]);
      if ((deps.spool?.pending() ?? 0) > 0 || memory.length >= memoryLimit) spoolOrDrop([event]);
      else memory.push(event);
      void startDraining();
    },
    async flush() {
      while (writing) await writing;
    },
    async close(deadlineMs = 5000) {
      const deadline = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), deadlineMs).unref());
      const done = (async () => {
        while (writing) await writing;
        return 'done' as const;
      })();
      if ((await Promise.race([done, deadline])) === 'late') {
        abandon = true;
        wake?.();
        // The attempt in flight ends within the pool's query timeout.
        await done;
      }
      abandon = true;
      const left = memory;
      memory = [];
      if (left.length > 0) {
        // Older than anything already spooled (the spool only takes events once memory is full).
        spoolOrDrop(left, 'prepend');
        deps.log.warn({ events: left.length }, 'audit events spooled to disk at shutdown; the next start writes them');
      }
    },
    status: () => ({ queued: memory.length, spooled: deps.spool?.pending() ?? 0, failingSince, lastError }),
  };
}

/** SQLSTATE classes meaning "this row's data is refused": retrying the same row will not help. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('54'));
}

/** What is kept of a refused event: who, what, that it was refused and why, with the text cut short. */
function rejectedStandIn(event: AuditEvent, err: unknown): AuditEvent {
  const cut = (text: string) => text.slice(0, 200);
  return {
    actorId: cut(event.actorId),
    kind: cut(event.kind),
    subject: cut(event.subject),
    outcome: 'rejected',
    details: { originalOutcome: cut(event.outcome), refusedBecause: cut(describeError(err)) },
    ...(event.writeKey ? { writeKey: event.writeKey } : {}),
  };
}

function auditMetrics(registry: Registry, waiting: () => { queued: number; spooled: number }) {
  const counter = (name: string, help: string) => new Counter({ name, help, registers: [registry] });
  new Gauge({
    name: 'vigil_audit_pending_events',
    help: 'Audit events not yet in Postgres, by where they wait (memory or the disk spool)',
    labelNames: ['where'] as const,
    registers: [registry],
    collect() {
      const w = waiting();
      this.set({ where: 'memory' }, w.queued);
      this.set({ where: 'spool' }, w.spooled);
    },
  });
  return {
    failures: counter('vigil_audit_write_failures_total', 'Audit events in write attempts that failed (retried until written)'),
    written: counter('vigil_audit_written_total', 'Audit events written by the background writer'),
    spooled: counter('vigil_audit_spooled_total', 'Audit events written to the disk spool while Postgres was away'),
    rejected: counter('vigil_audit_rejected_total', 'Audit events Postgres refused, stored as rejected stand-ins'),
    dropped: counter('vigil_audit_dropped_total', 'Audit events lost: memory and spool full, or even the stand-in refused'),
  };
}
