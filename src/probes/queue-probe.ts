import { formatDuration } from '../core/format.ts';
import type { Field } from '../core/reply.ts';
import type { QueueCounts, QueueInspector, QueueThresholds } from './queue-inspector.ts';
import { finiteValues, type Measurement } from './reading.ts';
import { shown, type ProbeRegistration } from './registration.ts';
import type { ThresholdRule } from './thresholds.ts';

/**
 * A queue's values. `waiting` includes prioritized jobs (BullMQ keeps them apart, but they wait
 * all the same, and /queue shows the sum); `paused` is 0 or 1; `oldest_waiting_ms` is absent when
 * nothing waits; `workers` only when the caller asked BullMQ for it.
 */
export function queueValues(c: QueueCounts, oldestWaitingAgeMs: number | null, workers?: number): Record<string, number> {
  return finiteValues({
    waiting: c.waiting + c.prioritized,
    prioritized: c.prioritized,
    active: c.active,
    delayed: c.delayed,
    failed: c.failed,
    completed: c.completed,
    paused: c.paused ? 1 : 0,
    oldest_waiting_ms: oldestWaitingAgeMs,
    workers,
  });
}

/**
 * Counts and the oldest waiting job's age of every queue in `names`: what /health and the /queue
 * overview judge, read in one round trip.
 */
export async function measureQueues(inspector: QueueInspector, names: readonly string[], now: number): Promise<Map<string, Measurement>> {
  const stats = await inspector.stats(names, now);
  const measured = new Map<string, Measurement>();
  for (const [name, s] of stats) measured.set(name, { values: queueValues(s, s.oldestWaitingAgeMs), facts: {} });
  return measured;
}

/** A queue is worth a look when work piles up, jobs fail, or it is paused. */
export function queueRules(t: QueueThresholds): ThresholdRule[] {
  return [
    { measure: 'waiting', warnAt: t.waiting },
    { measure: 'failed', warnAt: t.failed },
    { measure: 'paused', warnAt: 1, reason: 'paused' },
  ];
}

/** `bullmq.thresholds` from the YAML, overridden per queue by `bullmq.queues[name]`. */
export function queueThresholdsFrom(bullmq: {
  thresholds: QueueThresholds;
  queues: Record<string, Partial<QueueThresholds>>;
}): (queue: string) => QueueThresholds {
  return (queue) => {
    const own = bullmq.queues[queue] ?? {};
    return { waiting: own.waiting ?? bullmq.thresholds.waiting, failed: own.failed ?? bullmq.thresholds.failed };
  };
}

/** A queue's values as fields, shared by `/health --verbose` and `/queue <name>`. */
export function queueFields(v: Record<string, number>): Field[] {
  return [
    { label: 'Waiting', value: shown(v.waiting) },
    { label: 'Active', value: shown(v.active) },
    { label: 'Delayed', value: shown(v.delayed) },
    { label: 'Failed', value: shown(v.failed) },
    { label: 'Completed (kept)', value: shown(v.completed) },
    { label: 'Paused', value: v.paused === 1 ? 'yes' : 'no' },
    ...(v.workers === undefined ? [] : [{ label: 'Workers', value: String(v.workers) }]),
    { label: 'Oldest waiting', value: oldestText(v) },
  ];
}

function measurementOf(measured: Map<string, Measurement>, name: string): Measurement {
  const m = measured.get(name);
  if (!m) throw new Error(`no statistics for queue ${name}`);
  return m;
}

function oldestText(v: Record<string, number>): string {
  return v.oldest_waiting_ms === undefined ? 'none waiting' : formatDuration(v.oldest_waiting_ms / 1000);
}

export const queueProbe: ProbeRegistration = {
  kind: 'queue',
  heading: 'Queues',
  layout: 'table',
  discoveryName: 'BullMQ queues',
  async targets({ queues, thresholdsFor, now = Date.now }) {
    // Without Redis there are no queues to list; the Redis reading already says why.
    if (!queues) return [];
    // Listing and counting share the discovery budget: one round trip for all queues, and when it
    // fails that is one failing reading, not one per queue.
    const names = await queues.discover();
    const measured = await measureQueues(queues, names, now());
    return names.map((name) => ({ name, measure: async () => measurementOf(measured, name), rules: queueRules(thresholdsFor(name)) }));
  },
  summarize: ({ values: v }) => {
    const oldest = v.oldest_waiting_ms === undefined ? '' : ` (oldest ${oldestText(v)})`;
    return `${shown(v.waiting)} waiting${oldest} · ${shown(v.active)} active · ${shown(v.failed)} failed · ${shown(v.delayed)} delayed`;
  },
  details: ({ values }) => queueFields(values),
  // A reading without values is the listing itself failing: /queue would fail the same way.
  followUp: (r) => (r.error === undefined ? { label: `Inspect ${r.name}`, command: `/queue ${r.name}` } : null),
};
