import type { Redis } from 'ioredis';
import { describeError } from '../core/errors.ts';

/** Where the queue list stands, for the note in /queue. */
export interface QueueListing {
  /** When the last SCAN finished (epoch ms); null before the first one. */
  refreshedAt: number | null;
  refreshMs: number;
  /** Why the last SCAN failed, when it did (the list shown is then the one before). */
  lastError: string | null;
}

export interface QueueDiscovery {
  /**
   * Every known queue, sorted: the configured ones and those the last SCAN found. Before any SCAN
   * has succeeded, waits for one (at most `firstWaitMs`, then answers with the configured ones).
   */
  names(): Promise<string[]>;
  /** Add a queue found some other way (e.g. asked for by name) without waiting for the next SCAN. */
  add(name: string): void;
  /** SCAN now; callers arriving while one runs share it. */
  refresh(): Promise<string[]>;
  listing(): QueueListing;
  /** Stop the timer; a SCAN under way sends no further command. */
  close(): Promise<void>;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): NodeJS.Timeout;
  clearTimeout(timer: NodeJS.Timeout): void;
}

export interface QueueDiscoveryDeps {
  redis: Redis;
  prefix: string;
  /** Queues named in the configuration: listed at once, whatever Redis holds. */
  configured?: readonly string[];
  refreshMs?: number;
  firstWaitMs?: number;
  /** Injected so a test can see that closing leaves no timer behind. */
  timers?: Timers;
  now?: () => number;
}

export const DEFAULT_REFRESH_MS = 30_000;
/** Bounds the first /queue or /health of a fresh process on a huge keyspace. */
export const DEFAULT_FIRST_WAIT_MS = 2000;
/**
 * Keys looked at per SCAN call. Every BullMQ job is a key, so a big keyspace takes thousands of
 * calls; 2000 keeps each call near a millisecond of Redis time while needing few round trips.
 */
const SCAN_COUNT = 2000;
const META_SUFFIX = ':meta';

/**
 * BullMQ has no list-queues call: queues are found by their `meta` hash with SCAN, which walks the
 * whole keyspace. That happens here, in the background every `refreshMs` (after the previous SCAN
 * ended, so SCANs never overlap), never on a request.
 */
export function createQueueDiscovery(deps: QueueDiscoveryDeps): QueueDiscovery {
  const { redis, prefix } = deps;
  const configured = [...new Set(deps.configured ?? [])];
  const refreshMs = deps.refreshMs ?? DEFAULT_REFRESH_MS;
  const firstWaitMs = deps.firstWaitMs ?? DEFAULT_FIRST_WAIT_MS;
  const timers = deps.timers ?? { setTimeout, clearTimeout };
  const now = deps.now ?? Date.now;

  let scanned: Set<string> | null = null;
  let refreshedAt: number | null = null;
  let lastError: string | null = null;
  let inFlight: Promise<string[]> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  async function scan(): Promise<Set<string>> {
    const found = new Set<string>();
    const head = `${prefix}:`;
    let cursor = '0';
    do {
      // Closing mid-walk: stop issuing commands on a client that is about to go away.
      if (closed) throw new Error('queue discovery closed');
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${head}*${META_SUFFIX}`, 'COUNT', SCAN_COUNT);
      cursor = next;
      for (const key of keys) found.add(key.slice(head.length, -META_SUFFIX.length));
    } while (cursor !== '0');
    return found;
  }

  function known(): string[] {
    return [...new Set([...configured, ...(scanned ?? [])])].sort();
  }

  function refresh(): Promise<string[]> {
    inFlight ??= scan()
      .then(
        (found) => {
          scanned = found;
          refreshedAt = now();
          lastError = null;
          return known();
        },
        (err: unknown) => {
          // Kept for /queue; not logged: the Redis client already logs a changed connection error
          // once, and a refresh failing every interval while Redis is down would only repeat it.
          lastError = describeError(err);
          throw err;
        },
      )
      .finally(() => {
        inFlight = null;
        schedule();
      });
    return inFlight;
  }

  function schedule(): void {
    if (closed) return;
    if (timer) timers.clearTimeout(timer);
    timer = timers.setTimeout(() => {
      timer = null;
      refresh().catch(() => undefined);
    }, refreshMs);
    // The refresher alone never keeps a process (a CLI one-shot) alive.
    timer.unref();
  }

  async function names(): Promise<string[]> {
    if (scanned) return known();
    const first = refresh();
    let waited: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      waited = timers.setTimeout(() => resolve('timeout'), firstWaitMs);
    });
    try {
      const result = await Promise.race([first, timedOut]);
      // Still scanning a huge keyspace: answer with what is known; the SCAN goes on.
      if (result === 'timeout') {
        first.catch(() => undefined);
        return known();
      }
      return result;
    } finally {
      if (waited) timers.clearTimeout(waited);
    }
  }

  // Start now, so the first request finds the list ready.
  refresh().catch(() => undefined);

  return {
    names,
    add(name) {
      scanned?.add(name);
    },
    refresh,
    listing: () => ({ refreshedAt, refreshMs, lastError }),
    async close() {
      closed = true;
      if (timer) timers.clearTimeout(timer);
      timer = null;
      // A running SCAN call is not awaited (on a hung Redis it may never answer); the walk checks
      // `closed` before each further call, so no command is sent after this.
    },
  };
}
