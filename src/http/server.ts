import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { BodyAborted, BodyBudgetExhausted, BodyTimeout, BodyTooLarge, createBodyBudget, readBody, type BodyBudget, type BodyLease } from './body.ts';
import { createIntakeMetrics, type IntakeMetrics, type IntakeRefusal } from './intake-metrics.ts';
import { sendJson, sendText } from './respond.ts';
import type { Route } from './route.ts';
import { DEFAULT_INTAKE_LIMITS, type IntakeLimits } from './intake-limits.ts';
import { describeError } from '../core/errors.ts';

export { DEFAULT_INTAKE_LIMITS, type IntakeLimits };

/** Slack's largest payloads (view submissions) stay well under this. */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

export interface HttpServerDeps {
  routes: readonly Route[];
  logError: (message: string) => void;
  /** Defaults above; tests shorten them. */
  limits?: Partial<IntakeLimits>;
  /** Where the intake's gauge and refusal counter are registered (none: not exported). */
  registry?: Registry;
}

export interface RunningServer {
  server: Server;
  port: number;
  /** Request body bytes held now that no route has verified yet (the budget's use). */
  unverifiedBodyBytes(): number;
  close(): Promise<void>;
}

/** What the handler shares across requests: the budget for unverified bodies and its counters. */
export interface IntakeState {
  budget: BodyBudget;
  bodyTimeoutMs: number;
  metrics: IntakeMetrics;
}

/** Dispatch on the route table: 404 for an unknown path, 405 (with Allow) for a known path's other methods. */
export function createHttpHandler(deps: HttpServerDeps, intake: IntakeState = defaultIntake(deps)) {
  const table = new Map<string, Map<string, Route>>();
  for (const route of deps.routes) {
    const methods = table.get(route.path) ?? new Map<string, Route>();
    if (methods.has(route.method)) throw new Error(`Two routes for ${route.method} ${route.path}`);
    methods.set(route.method, route);
    table.set(route.path, methods);
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    let lease: BodyLease | undefined;
    try {
      const methods = table.get(path);
      if (!methods) return sendJson(res, 404, { error: 'not found' });
      const route = methods.get(method);
      if (!route) {
        const allow = [...methods.keys()].join(', ');
        return sendJson(res, 405, { error: `use ${allow}` }, { allow });
      }
      const refused = route.authorize?.(req.headers);
      if (refused) {
        intake.metrics.refused('unauthorized');
        res.setHeader('connection', 'close');
        return typeof refused.body === 'string' ? sendText(res, refused.status, refused.body) : sendJson(res, refused.status, refused.body);
      }
      // A body nothing has verified yet counts against the shared budget until the route is done.
      if (!route.authorize || route.signedBody === true) lease = intake.budget.lease();
      const rawBody =
        method === 'POST'
          ? await readBody(req, { limit: route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, deadlineMs: intake.bodyTimeoutMs, ...(lease ? { lease } : {}) })
          : Buffer.alloc(0);
      await route.handle({ method, path, headers: req.headers, rawBody }, res);
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal) {
        intake.metrics.refused(refusal.reason);
        if (refusal.status === 0) return; // the client left: nobody to answer
        res.setHeader('connection', 'close');
        return sendJson(res, refusal.status, { error: refusal.message }, refusal.status === 503 ? { 'retry-after': '1' } : {});
      }
      deps.logError(`${req.method} ${path}: ${describeError(err)}`);
      return sendJson(res, 500, { error: 'internal error' });
    } finally {
      lease?.release();
    }
  };
}

function refusalOf(err: unknown): { reason: IntakeRefusal; status: number; message: string } | null {
  if (err instanceof BodyTooLarge) return { reason: 'too_large', status: 413, message: `body over ${err.limit} bytes` };
  if (err instanceof BodyTimeout) return { reason: 'body_timeout', status: 408, message: 'body not received in time' };
  if (err instanceof BodyBudgetExhausted) return { reason: 'busy', status: 503, message: 'too many request bodies in flight; retry' };
  if (err instanceof BodyAborted) return { reason: 'aborted', status: 0, message: '' };
  return null;
}

function defaultIntake(deps: HttpServerDeps): IntakeState {
  const limits = { ...DEFAULT_INTAKE_LIMITS, ...deps.limits };
  const budget = createBodyBudget(limits.maxUnverifiedBodyBytes);
  return { budget, bodyTimeoutMs: limits.bodyTimeoutMs, metrics: createIntakeMetrics(budget, deps.registry) };
}

export async function startHttpServer(deps: HttpServerDeps, port: number, host = '0.0.0.0'): Promise<RunningServer> {
  const limits = { ...DEFAULT_INTAKE_LIMITS, ...deps.limits };
  const intake = defaultIntake(deps);
  const handler = createHttpHandler(deps, intake);
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node looks for expired requests only this often (30 s by default): a timeout is no tighter.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    (req, res) => void handler(req, res),
  );
  server.maxConnections = limits.maxConnections;
  // Slack reuses connections heavily; keep them a little longer than its client does.
  server.keepAliveTimeout = 65_000;
  server.on('drop', () => intake.metrics.refused('connection_cap'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    unverifiedBodyBytes: () => intake.budget.used(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

