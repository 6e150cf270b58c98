import type { AuditWriter } from '../audit/audit-writer.ts';
import { requireDep } from '../core/deps.ts';
import { withTimeout } from '../core/timeout.ts';
import type { Infrastructure } from '../infrastructure.ts';
import type { ReadinessCheck } from './ops-routes.ts';

/** Not ready while audit writes have failed for a while: events wait in memory or on disk. */
const AUDIT_FAILING_MS = 10_000;
export function auditReadiness(audit: AuditWriter): ReadinessCheck {
  return {
    name: 'audit',
    async check() {
      const s = audit.status();
      if (s.failingSince === null || Date.now() - s.failingSince < AUDIT_FAILING_MS) return;
      const seconds = Math.round((Date.now() - s.failingSince) / 1000);
      throw new Error(`audit writes failing for ${seconds} s (${s.queued} events waiting in memory, ${s.spooled} on disk): ${s.lastError ?? 'unknown error'}`);
    },
  };
}

/** /readyz: the inspected Postgres, Redis, and a separate state database when there is one. */
export function readinessChecks(infra: Infrastructure): ReadinessCheck[] {
  const { probeDb, probeRedis, missing } = infra;
  const checks: ReadinessCheck[] = [
    { name: 'postgres', check: async () => void (await withTimeout(requireDep(probeDb, 'Postgres', missing.postgres).query('SELECT 1'), 1000, 'Postgres')) },
    { name: 'redis', check: async () => void (await withTimeout(requireDep(probeRedis, 'Redis', missing.redis).ping(), 1000, 'Redis')) },
  ];
  const statePool = infra.state.pool;
  if (infra.config.env.VIGIL_DATABASE_URL && statePool) {
    checks.push({ name: 'state', check: async () => void (await withTimeout(statePool.query('SELECT 1'), 1000, 'State database')) });
  }
  // Failures said as "Redis at host:port refused the connection", like /health says them.
  return checks.map((c) => ({
    name: c.name,
    check: () => c.check().catch((err: unknown) => {
      throw infra.explainError(err) ?? err;
    }),
  }));
}
