import type { Registry } from 'prom-client';
import { describeError, isAppError } from '../core/errors.ts';
import { sendBody, sendJson } from './respond.ts';
import type { Route } from './route.ts';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** What an orchestrator and Prometheus ask of any Vigil replica. */
export function opsRoutes(deps: { readiness: readonly ReadinessCheck[]; registry: Registry }): Route[] {
  return [
    { method: 'GET', path: '/healthz', handle: (_req, res) => sendJson(res, 200, { status: 'alive' }) },
    {
      method: 'GET',
      path: '/readyz',
      async handle(_req, res) {
        const checks = await Promise.all(deps.readiness.map(runReadiness));
        const ready = checks.every((c) => c.ready);
        // 503 takes the replica out of a load balancer until its dependencies answer again.
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks });
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      async handle(_req, res) {
        sendBody(res, 200, deps.registry.contentType, await deps.registry.metrics());
      },
    },
  ];
}

async function runReadiness(c: ReadinessCheck): Promise<{ name: string; ready: boolean; error?: string }> {
  try {
    await c.check();
    return { name: c.name, ready: true };
  } catch (err) {
    return { name: c.name, ready: false, error: isAppError(err) ? err.userMessage : describeError(err) };
  }
}
