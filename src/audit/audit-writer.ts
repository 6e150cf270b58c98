import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { describeError } from '../core/errors.ts';
import type { StateStore } from '../db/state.ts';
import type { Logger } from '../log.ts';
import { auditMetrics } from './audit-metrics.ts';
import type { AuditSpool } from './audit-spool.ts';
import { writeIsolating } from './refused-rows.ts';
import { recordAuditEvents, storedWriteKeys, type AuditEvent, type AuditKey } from './chain.ts';

/**
 * Writes audit events that go with no other change (command runs) in batches beside the replies
 * (a reply waits only until its event is safe, see `record`), and loses none of them:
 * - one writer at a time; events arriving meanwhile are batched into the next append;
 * - a failed write is retried with backoff until Postgres is back (the batch stays at the head);
 * - a row Postgres refuses (a data error) is isolated by halving the batch, and stored as a
 *   `rejected` event in its place, so it never costs its neighbours;
 * - past `memoryLimit` waiting events, new ones go to the disk spool (src/audit/audit-spool.ts),
 *   and keep going there until it is replayed, so the order is kept;
 * - `close` writes what it can within its deadline and spools the rest;
 * - `record` tells when an event is safe from a process kill, so an answer that waits for it never
 *   outlives its event: with the writer idle, once committed (a few ms); with a write already
 *   under way, failing, or slower than `safeWithinMs`, once copied to the disk spool (a sync
 *   append, so a burst is not held to Postgres' pace). A copy whose event is committed after all
 *   is skipped on replay by its write key;
 * - segments of the spool that a killed Vigil left in the same directory are adopted every
 *   `adoptEveryMs`, so a replica sharing the directory writes them without waiting for a restart.
 */
export interface AuditWriter {
  /**
   * Queue one event; never delays or fails the caller. The promise (never rejecting) settles once
   * the event would survive this process being killed: in Postgres or in the disk spool.
   */
  record(event: AuditEvent): Promise<void>;
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
  /** How long `record` waits for the commit before it copies the event to disk instead. */
  safeWithinMs?: number;
  /** How often to look for spool segments a killed process left behind. */
  adoptEveryMs?: number;
}

/** Rows per INSERT (one statement over arrays whatever the size): bounds a statement's size and lock time. */
const MAX_BATCH = 500;
const DEFAULT_MEMORY_LIMIT = 10_000;
const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;
const DEFAULT_SAFE_WITHIN_MS = 300;
const DEFAULT_ADOPT_EVERY_MS = 5000;
const DONE: Promise<void> = Promise.resolve();
const defaultBackoff = (attempt: number) => Math.min(100 * 2 ** attempt, 5000);

export function createAuditWriter(deps: AuditWriterDeps): AuditWriter {
  const memoryLimit = deps.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
  const spoolMaxBytes = deps.spoolMaxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
  const backoff = deps.backoffMs ?? defaultBackoff;
  const now = deps.now ?? Date.now;
  const metrics = auditMetrics(deps.registry, () => ({ queued: memory.length, spooled: deps.spool?.pending() ?? 0 }));

  let memory: AuditEvent[] = [];
  /** How many of memory's oldest events have a copy on disk (see copyMemoryToDisk). */
  let copied = 0;
  let writing: Promise<void> | null = null;
  let failingSince: number | null = null;
  let lastError: string | null = null;
  let lastLoggedError = '';
  /** Set by close: stop retrying after the current attempt. */
  let abandon = false;
  let wake: (() => void) | null = null;
  /** Callers waiting for their event to be safe, by write key. */
  const waiters = new Map<string, () => void>();
  const safeWithinMs = deps.safeWithinMs ?? DEFAULT_SAFE_WITHIN_MS;

  function settle(events: readonly AuditEvent[]): void {
    if (waiters.size === 0) return;
    for (const e of events) if (e.writeKey) waiters.get(e.writeKey)?.();
  }

  /**
   * Copies of what waits in memory, on disk so a kill cannot take them: the events stay in memory
   * and are written from there, and the spool's copies are skipped on replay once their keys are
   * stored. Copies go before everything spooled (as memory does at shutdown), and always as a
   * prefix of memory, so a replay after a kill keeps the order.
   */
  function copyMemoryToDisk(): void {
    if (!deps.spool || copied >= memory.length || deps.spool.bytes() >= spoolMaxBytes) return;
    try {
      const copies = memory.slice(copied);
      deps.spool.prepend(copies);
      copied = memory.length;
      metrics.spooled.inc(copies.length);
      settle(copies);
    } catch (err) {
      deps.log.error({ err: describeError(err) }, 'audit spool append failed');
    }
  }

  /** Settles once `event` (in memory) is committed, or copied to disk when that takes too long. */
  function committedOrCopied(event: AuditEvent & { writeKey: string }): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        waiters.delete(event.writeKey);
        copyMemoryToDisk();
        resolve();
      }, safeWithinMs);
      waiters.set(event.writeKey, () => {
        clearTimeout(timer);
        waiters.delete(event.writeKey);
        resolve();
      });
    });
  }

  function spoolOrDrop(events: AuditEvent[], where: 'append' | 'prepend' = 'append'): void {
    if (events.length === 0) return;
    // Spooled, or dropped and counted: either way nothing more will come of waiting.
    settle(events);
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
        if (batch.from === 'memory') {
          memory = memory.slice(batch.events.length);
          copied = Math.max(0, copied - batch.events.length);
        } else deps.spool?.consume(batch.events.length);
        continue;
      }
      try {
        if (state.kind === 'unreachable') throw new Error(state.why);
        const pool = state.pool;
        // After a failure the last attempt may have committed without us hearing back, and the
        // spool holds copies of events written from memory since: skip what is already stored.
        const stored = attempt > 0 || batch.from === 'spool' ? await storedWriteKeys(pool, batch.events.flatMap((e) => (e.writeKey ? [e.writeKey] : []))) : null;
        const unwritten = stored?.size ? batch.events.filter((e) => !e.writeKey || !stored.has(e.writeKey)) : batch.events;
        await writeIsolating(unwritten, (events) => recordAuditEvents(pool, events, deps.key ?? null), {
          rejected: (refused, err) => {
            metrics.rejected.inc();
            deps.log.error({ kind: refused.kind, subject: refused.subject, err: describeError(err) }, 'audit event refused by Postgres; stored as rejected');
          },
          dropped: () => metrics.dropped.inc(),
        });
        if (batch.from === 'memory') {
          memory = memory.slice(batch.events.length);
          copied = Math.max(0, copied - batch.events.length);
        } else deps.spool?.consume(batch.events.length);
        settle(batch.events);
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
  const adopting = deps.spool
    ? setInterval(() => {
        const adopted = deps.spool?.adoptOrphans() ?? 0;
        if (adopted === 0 || abandon) return;
        deps.log.warn({ events: adopted }, 'replaying audit events a stopped Vigil left in the spool');
        void startDraining();
      }, deps.adoptEveryMs ?? DEFAULT_ADOPT_EVERY_MS).unref()
    : null;

  return {
    record(recorded) {
      if (deps.state.status().kind === 'off') return DONE;
      const event = { ...recorded, writeKey: recorded.writeKey ?? randomUUID() };
      if (abandon || (deps.spool?.pending() ?? 0) > 0 || memory.length >= memoryLimit) {
        spoolOrDrop([event]);
        if (!abandon) void startDraining();
        return DONE;
      }
      // Idle: this event is the next append, so its commit is a few ms away. Busy or failing: it
      // would wait behind others (or an outage), so disk now.
      const idle = writing === null && failingSince === null;
      memory.push(event);
      void startDraining();
      if (idle) return committedOrCopied(event);
      copyMemoryToDisk();
      return DONE;
    },
    async flush() {
      while (writing) await writing;
    },
    async close(deadlineMs = 5000) {
      if (adopting) clearInterval(adopting);
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
      // Those with a copy on disk already are not spooled twice.
      const left = memory.slice(copied);
      settle(memory);
      memory = [];
      copied = 0;
      if (left.length > 0) {
        // Older than anything already spooled (the spool only takes events once memory is full).
        spoolOrDrop(left, 'prepend');
        deps.log.warn({ events: left.length }, 'audit events spooled to disk at shutdown; the next start writes them');
      }
    },
    status: () => ({ queued: memory.length, spooled: deps.spool?.pending() ?? 0, failingSince, lastError }),
  };
}
