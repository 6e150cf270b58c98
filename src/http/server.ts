import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { EmbeddedHttpReceiver } from '../slack/receiver.ts';
import { BodyTooLarge, readBody } from './body.ts';
import { describeError } from '../core/errors.ts';

/** Slack's largest payloads (view submissions) stay well under this. */
export const MAX_BODY_BYTES = 256 * 1024;

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface HttpServerDeps {
  slack: EmbeddedHttpReceiver | null;
  registry: Registry;
  readiness: ReadinessCheck[];
  logError: (message: string) => void;
}

export interface RunningServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** The one HTTP server: Slack events, liveness, readiness and Prometheus metrics. */
export function createHttpHandler(deps: HttpServerDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === '/slack/events') {
        if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });
        if (!deps.slack) return send(res, 404, { error: 'Slack over HTTP is not enabled (set SLACK_SIGNING_SECRET)' });
        const rawBody = await readBody(req, MAX_BODY_BYTES);
        return await deps.slack.handle({ headers: req.headers, rawBody }, res);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'use GET' });
      if (path === '/healthz') return send(res, 200, { status: 'alive' });
      if (path === '/readyz') return await readiness(deps.readiness, res);
      if (path === '/metrics') {
        const text = await deps.registry.metrics();
        res.writeHead(200, { 'content-type': deps.registry.contentType });
        return void res.end(text);
      }
      return send(res, 404, { error: 'not found' });
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        res.setHeader('connection', 'close');
        return send(res, 413, { error: `body over ${err.limit} bytes` });
      }
      deps.logError(`${req.method} ${path}: ${describeError(err)}`);
      return send(res, 500, { error: 'internal error' });
    }
  };
}

async function readiness(checks: ReadinessCheck[], res: ServerResponse): Promise<void> {
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        await c.check();
        return { name: c.name, ready: true };
      } catch (err) {
        return { name: c.name, ready: false, error: describeError(err) };
      }
    }),
  );
  const ready = results.every((r) => r.ready);
  send(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks: results });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
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
