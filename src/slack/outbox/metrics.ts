import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { describeError } from '../../core/errors.ts';
import { withTimeout } from '../../core/timeout.ts';
import type { Logger } from '../../log.ts';
import type { SlackWriteMethod } from './types.ts';

/** How one Slack write ended: `ok`, or which of the outbox's three failure paths it took. */
export type WriteOutcome = 'ok' | 'rate_limited' | 'retryable' | 'permanent';

export interface OutboxMetrics {
  write(method: SlackWriteMethod, kind: string, outcome: WriteOutcome): void;
  /** A message delivered `seconds` after what it reports happened (its originAt). */
  latency(kind: string, seconds: number): void;
  /** A message not delivered again because it already was (at enqueue, or when a job re-runs). */
  duplicate(stage: 'enqueue' | 'worker' | 'superseded'): void;
  /** Recorded messages whose job Redis had lost, put back in line by the reconciler. */
  requeued(count: number): void;
}

/** Read at scrape time, so the numbers are Redis's, not this replica's view. */
export interface OutboxGauges {
  depth(): Promise<number>;
  oldestAgeSeconds(): Promise<number>;
}

// A scrape must not hang on a Redis that is down (the queue connection waits for reconnects).
const SCRAPE_TIMEOUT_MS = 2000;

export function createOutboxMetrics(registry: Registry, gauges: OutboxGauges, log: Logger): OutboxMetrics {
  const writes = new Counter({
    name: 'vigil_slack_writes_total',
    help: 'Slack Web API writes by the outbox, by method, kind of message and outcome (ok, rate_limited, retryable, permanent)',
    labelNames: ['method', 'kind', 'outcome'] as const,
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'vigil_slack_outbox_duplicates_total',
    help: 'Messages not sent: their idempotency key already was delivered (stage enqueue or worker), or a newer update of the same message was queued (superseded)',
    labelNames: ['stage'] as const,
    registers: [registry],
  });
  // When Redis does not answer the gauge has no sample rather than a stale one, and /metrics
  // still answers: the Redis probe and readiness report the outage itself.
  const scraped = (what: string, read: () => Promise<number>) =>
    async function collect(this: Gauge) {
      try {
        this.set(await withTimeout(read(), SCRAPE_TIMEOUT_MS, `outbox ${what}`));
      } catch (err) {
        this.reset();
        log.warn({ err: describeError(err) }, `slack outbox: ${what} not measured`);
      }
    };
  new Gauge({
    name: 'vigil_slack_outbox_depth',
    help: 'Slack messages enqueued and not yet delivered or given up (waiting, delayed or being sent)',
    registers: [registry],
    collect: scraped('depth', gauges.depth),
  });
  new Gauge({
    name: 'vigil_slack_outbox_oldest_age_seconds',
    help: 'Age of the oldest Slack message not yet delivered (0 when none)',
    registers: [registry],
    collect: scraped('oldest age', gauges.oldestAgeSeconds),
  });
  const latency = new Histogram({
    name: 'vigil_slack_delivery_latency_seconds',
    help: 'From what a message reports (e.g. an alert received) to Slack accepting it, by kind of message',
    labelNames: ['kind'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900],
    registers: [registry],
  });
  const requeued = new Counter({
    name: 'vigil_slack_outbox_requeued_total',
    help: 'Messages recorded in Postgres whose job Redis had lost (a restart without persistence, a failover), put back in line',
    registers: [registry],
  });
  return {
    requeued: (count) => requeued.inc(count),
    write: (method, kind, outcome) => writes.inc({ method, kind, outcome }),
    latency: (kind, seconds) => latency.observe({ kind }, Math.max(0, seconds)),
    duplicate: (stage) => duplicates.inc({ stage }),
  };
}
