import type { Metrics, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createQueueDiscovery, type QueueDiscoveryDeps, type QueueListing } from './queue-discovery.ts';
import { countsOf, readQueueStats, type QueueCounts, type QueueStats } from './queue-stats.ts';

export type { QueueCounts, QueueStats } from './queue-stats.ts';
export type { QueueListing } from './queue-discovery.ts';

export interface FailureSample {
  jobId: string;
  jobName: string;
  reason: string;
  attempts: number;
  finishedAt: number | null;
}

export interface QueueDetail extends QueueCounts {
  name: string;
  oldestWaitingAgeMs: number | null;
  recentFailures: FailureSample[];
  /** Completed / failed per minute over the last minutes, when workers record metrics. */
  throughput: { minutes: number; completed: number; failed: number } | null;
  workers: number;
}

export interface QueueInspector {
  /** Known queue names, sorted: from the list refreshed in the background, never a SCAN per call. */
  discover(): Promise<string[]>;
  /** Whether a queue exists, for one asked for by name that the last refresh has not seen yet. */
  has(name: string): Promise<boolean>;
  /** Counts and oldest waiting age of every queue in `names`, in one Redis round trip. */
  stats(names: readonly string[], now?: number): Promise<Map<string, QueueStats>>;
  counts(name: string): Promise<QueueCounts>;
  /** Milliseconds the job at the head of the waiting list has waited; null when none waits. */
  oldestWaitingAge(name: string, now?: number): Promise<number | null>;
  detail(name: string, now?: number): Promise<QueueDetail>;
  /** When the queue list was last refreshed and how often it is. */
  listing(): QueueListing;
  close(): Promise<void>;
}

const THROUGHPUT_MINUTES = 15;
const FAILURE_SAMPLES = 5;

/**
 * Read-only view of every BullMQ queue under `prefix`. The queue list comes from a background
 * refresher (queue-discovery.ts) and the counts of all queues from one script (queue-stats.ts), so
 * the cost of /queue and /health grows with the number of queues, not with the number of keys.
 * The details of one queue use BullMQ's own calls; `skipMetasUpdate` keeps them from writing.
 */
export function createQueueInspector(deps: QueueDiscoveryDeps): QueueInspector & { refresh(): Promise<string[]> } {
  const { redis, prefix } = deps;
  const discovery = createQueueDiscovery(deps);
  const queues = new Map<string, Queue>();

  // BullMQ itself (~50 ms and ~15 MB to load) only for one queue's details: the queue list and the
  // counts (/health, /queue) are read with a script. Imported before the map is checked, so two
  // callers at once still share one Queue.
  async function queue(name: string): Promise<Queue> {
    const { Queue } = await import('bullmq');
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: redis, prefix, skipMetasUpdate: true, skipVersionCheck: true });
      // A Queue re-emits connection errors; the probe that awaits a call reports them instead.
      q.on('error', () => undefined);
      queues.set(name, q);
    }
    return q;
  }

  function stats(names: readonly string[], now = Date.now()): Promise<Map<string, QueueStats>> {
    return readQueueStats(redis, prefix, names, now);
  }

  async function one(name: string, now = Date.now()): Promise<QueueStats> {
    const found = (await stats([name], now)).get(name);
    if (!found) throw new Error(`no statistics for queue ${name}`);
    return found;
  }

  async function counts(name: string): Promise<QueueCounts> {
    return countsOf(await one(name));
  }

  async function has(name: string): Promise<boolean> {
    if ((await discovery.names()).includes(name)) return true;
    // Created since the last refresh: one EXISTS instead of waiting up to refreshMs.
    if ((await redis.exists(`${prefix}:${name}:meta`)) === 0) return false;
    discovery.add(name);
    return true;
  }

  async function detail(name: string, now = Date.now()): Promise<QueueDetail> {
    const q = await queue(name);
    const [base, failed, completedMetrics, failedMetrics, workers] = await Promise.all([
      one(name, now),
      q.getFailed(0, FAILURE_SAMPLES - 1),
      q.getMetrics('completed', 0, THROUGHPUT_MINUTES - 1),
      q.getMetrics('failed', 0, THROUGHPUT_MINUTES - 1),
      q.getWorkersCount(),
    ]);
    const hasMetrics = completedMetrics.meta.prevTS > 0 || failedMetrics.meta.prevTS > 0;
    return {
      ...countsOf(base),
      name,
      oldestWaitingAgeMs: base.oldestWaitingAgeMs,
      recentFailures: failed.map((job) => ({
        jobId: String(job.id ?? '?'),
        jobName: job.name,
        reason: job.failedReason || 'no reason recorded',
        attempts: job.attemptsMade,
        finishedAt: job.finishedOn ?? null,
      })),
      throughput: hasMetrics
        ? {
            minutes: THROUGHPUT_MINUTES,
            completed: recentCount(completedMetrics, now, THROUGHPUT_MINUTES),
            failed: recentCount(failedMetrics, now, THROUGHPUT_MINUTES),
          }
        : null,
      workers,
    };
  }

  async function close(): Promise<void> {
    await discovery.close();
    await Promise.all([...queues.values()].map((q) => q.close()));
    queues.clear();
  }

  return {
    discover: () => discovery.names(),
    has,
    stats,
    counts,
    oldestWaitingAge: async (name, now = Date.now()) => (await one(name, now)).oldestWaitingAgeMs,
    detail,
    listing: () => discovery.listing(),
    /** Re-read the list now (tests, benches); the background refresher does this every refreshMs. */
    refresh: () => discovery.refresh(),
    close,
  };
}

/**
 * Jobs finished in the last `minutes` minutes, the current one included. BullMQ pushes a minute's
 * count to `data` only when a job finishes in a later minute: until then it is
 * `meta.count - meta.prevCount` (the minute of `meta.prevTS`), and data[i] is the minute i + 1
 * before that one. A queue idle for a while has old points at the head, hence the age.
 */
function recentCount(m: Metrics, now: number, minutes: number): number {
  if (m.meta.prevTS <= 0) return 0;
  const age = Math.max(0, Math.floor(now / 60_000) - Math.floor(m.meta.prevTS / 60_000));
  if (age >= minutes) return 0;
  return Math.max(0, m.meta.count - m.meta.prevCount) + sum(m.data.slice(0, minutes - 1 - age));
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + (Number(b) || 0), 0);
}

/**
 * Backlog sizes from which a queue is reported as a warning: `bullmq.thresholds` in the YAML,
 * overridden per queue by `bullmq.queues[name]`.
 */
export interface QueueThresholds {
  waiting: number;
  failed: number;
}
