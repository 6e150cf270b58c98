/**
 * The HTTP server's intake limits over real sockets: stalled and trickled requests are cut off
 * within their timeouts, connections are capped, and the bytes buffered before verification
 * stay under the budget however many clients stall mid-upload.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { sendJson } from '../../../src/http/respond.ts';
import type { Route } from '../../../src/http/route.ts';
import { startHttpServer, type IntakeLimits, type RunningServer } from '../../../src/http/server.ts';
import { waitFor } from '../../support/wait.ts';

const KIB = 1024;
/** Short versions of the production limits, so each case takes well under a second or two. */
const LIMITS: IntakeLimits = { headersTimeoutMs: 400, requestTimeoutMs: 2000, bodyTimeoutMs: 600, maxConnections: 50, maxUnverifiedBodyBytes: 1024 * KIB };

const servers: RunningServer[] = [];
const sockets: Socket[] = [];
let handled = 0;

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await s.close();
});

/** An open route (its body is unverified, like Slack's) and one a bearer token guards. */
const routes: Route[] = [
  {
    method: 'POST',
    path: '/open',
    handle(req, res) {
      handled += 1;
      sendJson(res, 200, { got: req.rawBody.length });
    },
  },
];

async function start(limits: Partial<IntakeLimits> = {}, registry?: Registry): Promise<RunningServer> {
  const server = await startHttpServer({ routes, logError: () => undefined, limits: { ...LIMITS, ...limits }, ...(registry ? { registry } : {}) }, 0, '127.0.0.1');
  servers.push(server);
  return server;
}

interface RawExchange {
  socket: Socket;
  /** Resolves when the server closes the connection: what it answered, and after how long. */
  closed: Promise<{ answer: string; afterMs: number }>;
}

/** A raw TCP client: writes `head` (and whatever the test writes later), collects the answer. */
function open(port: number, head = ''): RawExchange {
  const started = Date.now();
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let answer = '';
  socket.on('data', (d) => (answer += d.toString('latin1')));
  socket.on('error', () => undefined); // a reset is one way of being closed
  if (head) socket.write(head);
  const closed = new Promise<{ answer: string; afterMs: number }>((resolve) => socket.on('close', () => resolve({ answer, afterMs: Date.now() - started })));
  return { socket, closed };
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
const uploadHead = (bytes: number) => `POST /open HTTP/1.1\r\nHost: vigil\r\nContent-Type: application/octet-stream\r\nContent-Length: ${bytes}\r\n\r\n`;

describe('timeouts', () => {
  it('closes a connection whose headers stall, with 408, within the headers timeout', async () => {
    const server = await start();
    const { closed } = open(server.port, 'POST /open HTTP/1.1\r\nHost: vigil\r\n');
    const { answer, afterMs } = await closed;
    expect(statusOf(answer)).toBe(408);
    expect(afterMs).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - 50);
    expect(afterMs).toBeLessThan(LIMITS.requestTimeoutMs);
  });

  it('closes an upload that stalls mid-body with 408 at the body deadline and gives its bytes back', async () => {
    const server = await start();
    const { closed } = open(server.port, uploadHead(255 * KIB) + 'x'.repeat(200 * KIB));
    await waitFor(() => server.unverifiedBodyBytes() === 200 * KIB, { timeoutMs: 2000 });
    const { answer, afterMs } = await closed;
    expect(statusOf(answer)).toBe(408);
    expect(afterMs).toBeGreaterThanOrEqual(LIMITS.bodyTimeoutMs - 50);
    expect(afterMs).toBeLessThan(LIMITS.requestTimeoutMs);
    expect(server.unverifiedBodyBytes()).toBe(0);
  });

  it('cuts off a body trickled a byte at a time, though bytes keep coming', async () => {
    const server = await start();
    const before = handled;
    const { socket, closed } = open(server.port, uploadHead(1000));
    const drip = setInterval(() => socket.writable && socket.write('x'), 20);
    try {
      const { answer, afterMs } = await closed;
      expect(statusOf(answer)).toBe(408);
      expect(afterMs).toBeLessThan(LIMITS.requestTimeoutMs);
    } finally {
      clearInterval(drip);
    }
    expect(handled).toBe(before);
  });

  it('still serves a request that arrives whole', async () => {
    const server = await start();
    const res = await fetch(`http://127.0.0.1:${server.port}/open`, { method: 'POST', body: 'x'.repeat(100 * KIB) });
    expect(await res.json()).toEqual({ got: 100 * KIB });
    expect(server.unverifiedBodyBytes()).toBe(0);
  });
});

describe('connection cap', () => {
  it('closes connections past the cap as they arrive, and accepts again once some are gone', async () => {
    const server = await start({ maxConnections: 4 });
    const held = Array.from({ length: 4 }, () => open(server.port, uploadHead(100)));
    await waitFor(() => new Promise<boolean>((resolve) => server.server.getConnections((_e, n) => resolve(n === 4))), { timeoutMs: 2000 });
    const extra = open(server.port, uploadHead(3) + 'abc');
    const { answer, afterMs } = await extra.closed;
    expect(answer).toBe(''); // dropped, never read
    expect(afterMs).toBeLessThan(LIMITS.bodyTimeoutMs);
    for (const h of held) h.socket.destroy();
    await waitFor(() => new Promise<boolean>((resolve) => server.server.getConnections((_e, n) => resolve(n === 0))), { timeoutMs: 2000 });
    const res = await fetch(`http://127.0.0.1:${server.port}/open`, { method: 'POST', body: 'ok' });
    expect(res.status).toBe(200);
  });
});

describe('budget for unverified bodies', () => {
  it('never holds more than the budget across 40 stalled 255 KiB uploads: the rest get 503 at once', async () => {
    const registry = new Registry();
    const server = await start({ bodyTimeoutMs: 1500 }, registry);
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, server.unverifiedBodyBytes())), 5);
    const uploads = Array.from({ length: 40 }, () => open(server.port, uploadHead(255 * KIB) + 'x'.repeat(254 * KIB)));
    const ended: Array<{ answer: string; afterMs: number }> = [];
    for (const u of uploads) void u.closed.then((r) => ended.push(r));
    try {
      // At most four fit in 1 MiB; every other one is refused once its bytes would not fit.
      await waitFor(() => ended.length >= 36, { timeoutMs: 1200, what: '36 uploads refused before the body deadline' });
      const held = server.unverifiedBodyBytes();
      expect(held).toBeLessThanOrEqual(LIMITS.maxUnverifiedBodyBytes);
      const metrics = await registry.metrics();
      expect(metrics).toMatch(new RegExp(`^vigil_http_unverified_body_bytes ${held}$`, 'm'));
      expect(metrics).toMatch(/^vigil_http_intake_refused_total\{reason="busy"\} (3[6-9]|40)$/m);
      await Promise.all(uploads.map((u) => u.closed));
    } finally {
      clearInterval(sampler);
    }
    const statuses = ended.map((r) => statusOf(r.answer));
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(36);
    expect(statuses.filter((s) => s !== 503 && s !== 408)).toEqual([]);
    for (const r of ended.filter((e) => statusOf(e.answer) === 503)) expect(r.afterMs).toBeLessThan(1500);
    expect(peak).toBeLessThanOrEqual(LIMITS.maxUnverifiedBodyBytes);
    expect(server.unverifiedBodyBytes()).toBe(0);
  });

  it('refuses a chunked body (no declared length) once it would overflow the budget', async () => {
    const server = await start({ maxUnverifiedBodyBytes: 64 * KIB });
    const head = 'POST /open HTTP/1.1\r\nHost: vigil\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunk = (n: number) => `${n.toString(16)}\r\n${'y'.repeat(n)}\r\n`;
    const { closed } = open(server.port, head + chunk(40 * KIB) + chunk(40 * KIB));
    const { answer } = await closed;
    expect(statusOf(answer)).toBe(503);
    expect(server.unverifiedBodyBytes()).toBe(0);
  });

  it('leaves bodies of routes that check a credential in the headers outside the budget', async () => {
    const guarded: Route = {
      method: 'POST',
      path: '/guarded',
      authorize: (h) => (h.authorization === 'Bearer t0ken' ? null : { status: 401, body: { error: 'no' } }),
      handle: (req, res) => sendJson(res, 200, { got: req.rawBody.length }),
    };
    const server = await startHttpServer({ routes: [guarded], logError: () => undefined, limits: { ...LIMITS, maxUnverifiedBodyBytes: 16 * KIB } }, 0, '127.0.0.1');
    servers.push(server);
    const ok = await fetch(`http://127.0.0.1:${server.port}/guarded`, { method: 'POST', headers: { authorization: 'Bearer t0ken' }, body: 'z'.repeat(100 * KIB) });
    expect(await ok.json()).toEqual({ got: 100 * KIB });
    const no = await fetch(`http://127.0.0.1:${server.port}/guarded`, { method: 'POST', body: 'z'.repeat(100 * KIB) });
    expect(no.status).toBe(401);
  });
});
