import { Counter, Histogram, type Registry } from 'prom-client';

export interface ActionMetrics {
  requested(action: string, outcome: 'requested' | 'auto_approved' | 'refused'): void;
  decided(action: string, decision: 'approve' | 'deny' | 'refused' | 'expired'): void;
  executed(action: string, outcome: 'succeeded' | 'failed' | 'interrupted'): void;
  approvalToStart(action: string, seconds: number): void;
}

/** `action` labels are catalog ids from the config (bounded); unknown ids are counted as `unknown`. */
export function createActionMetrics(registry: Registry, known: readonly string[]): ActionMetrics {
  const ids = new Set(known);
  const label = (action: string) => (ids.has(action) ? action : 'unknown');
  const requests = new Counter({ name: 'vigil_action_requests_total', help: 'Action requests, by action and outcome', labelNames: ['action', 'outcome'] as const, registers: [registry] });
  const decisions = new Counter({
    name: 'vigil_action_decisions_total',
    help: 'Approval decisions (approve, deny), refused clicks and expiries, by action',
    labelNames: ['action', 'decision'] as const,
    registers: [registry],
  });
  const executions = new Counter({ name: 'vigil_action_executions_total', help: 'Action runs, by action and outcome', labelNames: ['action', 'outcome'] as const, registers: [registry] });
  const toStart = new Histogram({
    name: 'vigil_action_approval_to_start_seconds',
    help: 'From the deciding approval to the worker starting the action',
    labelNames: ['action'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    requested: (action, outcome) => requests.inc({ action: label(action), outcome }),
    decided: (action, decision) => decisions.inc({ action: label(action), decision }),
    executed: (action, outcome) => executions.inc({ action: label(action), outcome }),
    approvalToStart: (action, seconds) => toStart.observe({ action: label(action) }, Math.max(0, seconds)),
  };
}
