import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry, Counter } from 'prom-client';
import { opsRoutes } from '../../../src/http/ops-routes.ts';
import { sendJson } from '../../../src/http/respond.ts';
import { startHttpServer, type RunningServer } from '../../../src/http/server.ts';
import type { Route } from '../../../src/http/route.ts';

/** The one HTTP server, real, on a free port: its route table, its refusals, and the ops routes. */
let server: RunningServer;
let base: string;
const errors: string[] = [];
let redisUp = true;
const received: Array<{ path: string; body: string }> = [];

beforeAll(async () => {
  const registry = new Registry();
  new Counter({ name: 'vigil_test_total', help: 'a test counter', registers: [registry] }).inc(3);
  const echo: Route = {
    method: 'POST',
    path: '/echo',
    maxBodyBytes: 1024,
    handle(req, res) {
      received.push({ path: req.path, body: req.rawBody.toString() });
      sendJson(res, 200, { got: req.rawBody.length });
    },
  };
  const broken: Route = {
    method: 'GET',
    path: '/broken',
    handle() {
      throw new Error('connect ECONNREFUSED redis://:s3cret@cache:6379');
    },
  };
  const readiness = [
    { name: 'postgres', check: async () => undefined },
    {
      name: 'redis',
      check: async () => {
        if (!redisUp) throw new Error('Redis did not answer within 1000 ms');
      },
    },
  ];
  server = await startHttpServer({ routes: [...opsRoutes({ readiness, registry }), echo, broken], logError: (m) => errors.push(m) }, 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
});

describe('HTTP server route table', () => {
  it('hands a POST body to its route, and 404s a path no route has', async () => {
    const res = await fetch(`${base}/echo?x=1`, { method: 'POST', body: 'hello' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ got: 5 });
    expect(received.at(-1)).toEqual({ path: '/echo', body: 'hello' });
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not found' });
  });

  it('answers 405 with Allow for a known path and another method', async () => {
    const res = await fetch(`${base}/echo`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect((await fetch(`${base}/healthz`, { method: 'POST', body: '' })).status).toBe(405);
  });

  it('refuses a body over the route’s limit with 413 before the handler runs', async () => {
    const before = received.length;
    const res = await fetch(`${base}/echo`, { method: 'POST', body: 'x'.repeat(2048) });
    expect(res.status).toBe(413);
    expect(received.length).toBe(before);
  });

  it('turns a handler’s failure into a 500 that quotes nothing, and logs it without the secret', async () => {
    const res = await fetch(`${base}/broken`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('{"error":"internal error"}');
    expect(errors.at(-1)).toBe('GET /broken: connect ECONNREFUSED redis://:***@cache:6379');
  });

  it('serves HEAD like GET', async () => {
    expect((await fetch(`${base}/healthz`, { method: 'HEAD' })).status).toBe(200);
  });
});

describe('ops routes', () => {
  it('/healthz says alive and /metrics serves the registry', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'alive' });
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await metrics.text()).toMatch(/^vigil_test_total 3$/m);
  });

  it('/readyz is 200 while every check passes and 503 naming the failing one otherwise', async () => {
    redisUp = true;
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: [{ name: 'postgres', ready: true }, { name: 'redis', ready: true }] });
    redisUp = false;
    const down = await fetch(`${base}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({
      status: 'not ready',
      checks: [
        { name: 'postgres', ready: true },
        { name: 'redis', ready: false, error: 'Redis did not answer within 1000 ms' },
      ],
    });
  });
});
