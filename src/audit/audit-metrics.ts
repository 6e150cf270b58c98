import { Counter, Gauge, type Registry } from 'prom-client';

/** The audit writer's metrics: what waits where, and how writes ended. */
export function auditMetrics(registry: Registry, waiting: () => { queued: number; spooled: number }) {
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
    spooled: counter('vigil_audit_spooled_total', 'Audit events written to the disk spool: Postgres away or slow, or a copy made before an answer while a write was under way'),
    rejected: counter('vigil_audit_rejected_total', 'Audit events Postgres refused, stored as rejected stand-ins'),
    dropped: counter('vigil_audit_dropped_total', 'Audit events lost: memory and spool full, or even the stand-in refused'),
  };
}
