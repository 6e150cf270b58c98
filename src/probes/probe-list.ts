import type { Field } from '../core/reply.ts';
import { backupProbe } from './backup-probe.ts';
import { httpProbe } from './http-probe.ts';
import { postgresProbe } from './postgres-probe.ts';
import { queueProbe } from './queue-probe.ts';
import type { EvaluatedReading } from './reading.ts';
import { redisProbe } from './redis-probe.ts';
import type { ProbeRegistration } from './registration.ts';

/** Every probe /health runs, in the order it shows them. A new probe is one more entry here. */
export const PROBES: readonly ProbeRegistration[] = [postgresProbe, redisProbe, queueProbe, httpProbe, backupProbe];

export function registrationFor(kind: string): ProbeRegistration | undefined {
  return PROBES.find((p) => p.kind === kind);
}

/** What a person reads first: the error, or the summary followed by why it is not ok. */
export function readingLine(reading: EvaluatedReading): string {
  if (reading.error !== undefined) return reading.error;
  const summary = registrationFor(reading.kind)?.summarize(reading) ?? reading.name;
  const reasons = reading.breaches.map((b) => b.reason);
  return reasons.length === 0 ? summary : `${summary} · ${reasons.join(' · ')}`;
}

/** `--verbose` fields; a reading that measured nothing has none. */
export function readingDetails(reading: EvaluatedReading): Field[] {
  if (reading.error !== undefined) return [];
  return registrationFor(reading.kind)?.details(reading) ?? [];
}
