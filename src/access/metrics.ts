import { Counter, type Registry } from 'prom-client';

export interface AccessMetrics {
  refused(kind: 'command' | 'click', subject: string, surface: string): void;
}

/** `vigil_access_refusals_total`: what the access policy refused, so a dashboard can show who keeps trying. */
export function createAccessMetrics(registry: Registry): AccessMetrics {
  const counter = new Counter({
    name: 'vigil_access_refusals_total',
    help: 'Commands, clicks and requests the access policy refused, by kind, subject and surface',
    labelNames: ['kind', 'subject', 'surface'] as const,
    registers: [registry],
  });
  return { refused: (kind, subject, surface) => counter.inc({ kind, subject, surface }) };
}
