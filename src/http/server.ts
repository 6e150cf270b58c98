import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodyTooLarge, readBody } from './body.ts';
import { sendJson } from './respond.ts';
import type { Route } from './route.ts';
import { describeError } from '../core/errors.ts';

/** Slack's largest payloads (view submissions) stay well under this. */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

export interface HttpServerDeps {
  routes: readonly Route[];
  logError: (message: string) => void;
}

export interface RunningServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Dispatch on the route table: 404 for an unknown path, 405 (with Allow) for a known path's other methods. */
export function createHttpHandler(deps: HttpServerDeps) {
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
        res.setHeader('connection', 'close');
        return sendJson(res, refused.status, refused.body);
      }
      const rawBody = method === 'POST' ? await readBody(req, route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES) : Buffer.alloc(0);
      await route.handle({ method, path, headers: req.headers, rawBody }, res);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        res.setHeader('connection', 'close');
        return sendJson(res, 413, { error: `body over ${err.limit} bytes` });
      }
      deps.logError(`${req.method} ${path}: ${describeError(err)}`);
      return sendJson(res, 500, { error: 'internal error' });
    }
  };
}

export async function startHttpServer(deps: HttpServerDeps, port: number, host = '0.0.0.0'): Promise<RunningServer> {
  const handler = createHttpHandler(deps);
  const server = createServer((req, res) => void handler(req, res));
  // Slack reuses connections heavily; keep them a little longer than its client does.
  server.keepAliveTimeout = 65_000;
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
