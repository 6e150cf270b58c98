import { Queue, type Metrics } from 'bullmq';
import type { Redis } from 'ioredis';

/** Counts by state as BullMQ reports them, plus the paused flag (v6 dropped `paused` from counts). */
export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  prioritized: number;
  paused: boolean;
}

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
  discover(): Promise<string[]>;
  counts(name: string): Promise<QueueCounts>;
  /** Milliseconds the job at the head of the waiting list has waited; null when none waits. */
  oldestWaitingAge(name: string, now?: number): Promise<number | null>;
  detail(name: string, now?: number): Promise<QueueDetail>;
  close(): Promise<void>;
}

const THROUGHPUT_MINUTES = 15;
const FAILURE_SAMPLES = 5;

/**
 * Read-only view of every BullMQ queue under `prefix`. BullMQ has no list-queues call, so queues
 * are found by their `meta` hash; `skipMetasUpdate` keeps inspection from writing to them.
 */
export function createQueueInspector(deps: { redis: Redis; prefix: string }): QueueInspector {
  const { redis, prefix } = deps;
  const queues = new Map<string, Queue>();

  function queue(name: string): Queue {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: redis, prefix, skipMetasUpdate: true, skipVersionCheck: true });
      // A Queue re-emits connection errors; the probe that awaits a call reports them instead.
      q.on('error', () => undefined);
      queues.set(name, q);
    }
    return q;
  }

  async function discover(): Promise<string[]> {
    const names = new Set<string>();
    const head = `${prefix}:`;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${head}*:meta`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) names.add(key.slice(head.length, -':meta'.length));
    } while (cursor !== '0');
    return [...names].sort();
  }

  async function counts(name: string): Promise<QueueCounts> {
    const q = queue(name);
    const [c, paused] = await Promise.all([
      q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'),
      q.isPaused(),
    ]);
    return {
      waiting: c.waiting ?? 0,
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      failed: c.failed ?? 0,
      completed: c.completed ?? 0,
      prioritized: c.prioritized ?? 0,
      paused,
    };
  }

  async function oldestWaitingAge(name: string, now = Date.now()): Promise<number | null> {
    // `asc`: BullMQ pushes new jobs on the left, so the oldest is the first of the ascending range.
    const [oldest] = await queue(name).getJobs(['waiting'], 0, 0, true);
    return oldest ? Math.max(0, now - oldest.timestamp) : null;
  }

  async function detail(name: string, now = Date.now()): Promise<QueueDetail> {
    const q = queue(name);
    const [base, oldestWaitingAgeMs, failed, completedMetrics, failedMetrics, workers] = await Promise.all([
      counts(name),
      oldestWaitingAge(name, now),
      q.getFailed(0, FAILURE_SAMPLES - 1),
      q.getMetrics('completed', 0, THROUGHPUT_MINUTES - 1),
      q.getMetrics('failed', 0, THROUGHPUT_MINUTES - 1),
      q.getWorkersCount(),
    ]);
    const hasMetrics = completedMetrics.meta.prevTS > 0 || failedMetrics.meta.prevTS > 0;
    return {
      ...base,
      name,
      oldestWaitingAgeMs,
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
    await Promise.all([...queues.values()].map((q) => q.close()));
    queues.clear();
  }

  return { discover, counts, oldestWaitingAge, detail, close };
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
