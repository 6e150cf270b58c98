import { Counter, Gauge, type Registry } from 'prom-client';
import type { BodyBudget } from './body.ts';

/** Why the server turned a request or connection away before a route could answer it. */
export type IntakeRefusal = 'unauthorized' | 'too_large' | 'body_timeout' | 'busy' | 'aborted' | 'connection_cap';

export interface IntakeMetrics {
  refused(reason: IntakeRefusal): void;
}

/**
 * `vigil_http_unverified_body_bytes` (what slow clients make the process hold now) and
 * `vigil_http_intake_refused_total` by reason. Without a registry nothing is exported.
 */
export function createIntakeMetrics(budget: BodyBudget, registry: Registry | undefined): IntakeMetrics {
  if (!registry) return { refused: () => undefined };
  new Gauge({
    name: 'vigil_http_unverified_body_bytes',
    help: 'Request body bytes buffered that no route has verified yet, across requests in flight',
    registers: [registry],
    collect() {
      this.set(budget.used());
    },
  });
  const refusals = new Counter({
    name: 'vigil_http_intake_refused_total',
    help: 'Requests and connections refused before a route answered, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  return { refused: (reason) => refusals.inc({ reason }) };
}
