/**
 * A tiny application for Prometheus to scrape in the SLO tests: `GET /metrics` serves
 * `http_requests_total{code="200"}` and `{code="500"}` counters that grow with time at `perSecond`
 * requests, `failRatio` of them failing (5 % by default). The counters grow from the clock, not per
 * scrape, so the rates Prometheus computes are the configured ones however often it scrapes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestExporter {
  /** http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  /** host:port, as a scrape target. */
  target: string;
  /** From now on, this share of requests fails (the counters so far stay). */
  setFailRatio(ratio: number): void;
  /** Scrapes answered so far. */
  scrapes(): number;
  close(): Promise<void>;
}

export async function startTestExporter(opts: { failRatio?: number; perSecond?: number } = {}): Promise<TestExporter> {
  const perSecond = opts.perSecond ?? 100;
  let failRatio = opts.failRatio ?? 0.05;
  let ok = 0;
  let failed = 0;
  let last = performance.now();
  let scrapes = 0;
  // Brings the counters up to now at the ratio that held since the last update.
  const advance = () => {
    const nowMs = performance.now();
    const requests = ((nowMs - last) / 1000) * perSecond;
    last = nowMs;
    failed += requests * failRatio;
    ok += requests * (1 - failRatio);
  };

  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    advance();
    scrapes++;
    const body = [
      '# HELP http_requests_total Requests the test application answered, by status code.',
      '# TYPE http_requests_total counter',
      `http_requests_total{code="200"} ${ok}`,
      `http_requests_total{code="500"} ${failed}`,
      '',
    ].join('\n');
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    target: `127.0.0.1:${port}`,
    setFailRatio(ratio) {
      advance();
      failRatio = ratio;
    },
    scrapes: () => scrapes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
