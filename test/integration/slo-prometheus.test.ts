/**
 * The SLO reader against a REAL Prometheus scraping a test application that fails 5 % of its
 * requests; and the query client's answers to a Prometheus that is down, hangs or is not one
 * (local HTTP stand-ins at the boundary).
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSchema } from '../../src/config/file.ts';
import { freePort } from '../../src/embedded/free-port.ts';
import { createPrometheusClient, PrometheusError } from '../../src/reports/slo/prometheus-client.ts';
import type { SloSpec } from '../../src/reports/slo/slo-config.ts';
import { readSloStatuses } from '../../src/reports/slo/slo-status.ts';
import { startPrometheus, type TestPrometheus } from '../support/prometheus.ts';
import { startTestExporter, type TestExporter } from '../support/test-exporter.ts';
import { waitFor } from '../support/wait.ts';

let exporter: TestExporter;
let prometheus: TestPrometheus;

function slos(raw: Record<string, unknown>): SloSpec[] {
  return fileSchema.parse({ slos: raw }).slos ?? [];
}
const CHECKOUT = {
  objective: 99,
  window: '1h',
  errors: 'sum(rate(http_requests_total{code=~"5.."}[$window]))',
  total: 'sum(rate(http_requests_total[$window]))',
  burnAlerts: [{ long: '1m', short: '20s', factor: 2, severity: 'critical' }],
};

beforeAll(async () => {
  exporter = await startTestExporter({ failRatio: 0.05 });
  prometheus = await startPrometheus({ targets: [exporter.target] });
  // rate() over 20 s needs two samples in it: a few one-second scrapes.
  await waitFor(async () => (await prometheus.query('sum(rate(http_requests_total[20s]))')) !== null, { timeoutMs: 20_000, intervalMs: 250, what: 'a rate over 20 s' });
}, 40_000);

afterAll(async () => {
  await prometheus?.stop();
  await exporter?.close();
});

describe('an SLO read from Prometheus', () => {
  it('5 % failing against a 99 % objective: compliance 95 %, the budget exhausted, burning 5× in both windows', async () => {
    const client = createPrometheusClient(prometheus.url);
    const [s] = await readSloStatuses({ slos: slos({ checkout: CHECKOUT }), prometheus: client, now: Date.now });
    expect(s?.error).toBeNull();
    expect(s?.errorRatio).toBeCloseTo(0.05, 2);
    expect(s?.compliance).toBeCloseTo(0.95, 2);
    expect(s?.budgetRemaining).toBeLessThan(-3.5); // 1 − 5 = −4
    expect(s?.status).toBe('exhausted');
    const [b] = s?.burnRates ?? [];
    expect(b?.longRate).toBeGreaterThan(4.5);
    expect(b?.longRate).toBeLessThan(5.5);
    expect(b?.shortRate).toBeGreaterThan(4.5);
    expect(b?.burning).toBe(true);
  });

  it('says which query Prometheus refused, and that one with several series needs sum()', async () => {
    const client = createPrometheusClient(prometheus.url);
    const [bad, several] = await readSloStatuses({
      slos: slos({ bad: { ...CHECKOUT, errors: 'sum(rate(http_requests_total{code=~"5.."}[$window])' }, several: { ...CHECKOUT, total: 'rate(http_requests_total[$window])' } }),
      prometheus: client,
      now: Date.now,
    });
    expect(bad).toMatchObject({ status: 'unknown', unreachable: false });
    expect(bad?.error).toMatch(/^Prometheus refused the query sum\(rate\(http_requests_total\{code=~"5\.\."\}\[1h\]\): .*parse error/);
    expect(several?.error).toMatch(/gives 2 series; an SLO needs one number \(wrap it in sum\(\.\.\.\)\)$/);
  });

  it('an empty answer for errors is 0 errors; for the total, no data', async () => {
    const client = createPrometheusClient(prometheus.url);
    const [none, idle] = await readSloStatuses({
      slos: slos({ none: { ...CHECKOUT, errors: 'sum(rate(http_requests_total{code="418"}[$window]))' }, idle: { ...CHECKOUT, total: 'sum(rate(nothing_total[$window]))' } }),
      prometheus: client,
      now: Date.now,
    });
    expect(none).toMatchObject({ status: 'ok', errorRatio: 0, budgetRemaining: 1 });
    expect(idle).toMatchObject({ status: 'no data', errorRatio: null, error: null });
  });
});

describe('the query client when Prometheus is not there', () => {
  const servers: Server[] = [];
  const seen: IncomingHttpHeaders[] = [];
  /** A local HTTP server in Prometheus's place, answering every request with `answer`. */
  async function standIn(answer: (res: ServerResponse) => void): Promise<string> {
    const server = createServer((req, res) => {
      seen.push(req.headers);
      answer(res);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('names a refused connection, a timeout, and an answer that is not the query API', async () => {
    const closed = createPrometheusClient(`http://127.0.0.1:${await freePort()}`);
    await expect(closed.instant('up', Date.now())).rejects.toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/did not answer \(ECONNREFUSED\)$/) });

    const hanging = createPrometheusClient(await standIn(() => undefined), { timeoutMs: 300 });
    const started = Date.now();
    await expect(hanging.instant('up', Date.now())).rejects.toMatchObject({ kind: 'unreachable', message: expect.stringContaining('no answer within 300 ms') });
    expect(Date.now() - started).toBeLessThan(3000);

    const html = createPrometheusClient(await standIn((res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Grafana</html>')));
    const err = await html.instant('up', Date.now()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusError);
    expect((err as PrometheusError).message).toMatch(/answered HTTP 200 without JSON; is PROMETHEUS_URL the Prometheus server\?$/);
  });

  it('sends credentials in the URL as Basic auth and never shows the password', async () => {
    const url = await standIn((res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"error","errorType":"unavailable","error":"too busy"}'));
    const withAuth = url.replace('http://', 'http://vigil:s3cret-pass@');
    const client = createPrometheusClient(withAuth);
    expect(client.shown).not.toContain('s3cret-pass');
    const err = (await client.instant('up', Date.now()).catch((e: unknown) => e)) as PrometheusError;
    expect(err.kind).toBe('query');
    expect(err.message).toBe('Prometheus refused the query up: too busy');
    expect(seen.at(-1)?.authorization).toBe(`Basic ${Buffer.from('vigil:s3cret-pass').toString('base64')}`);
  });

  it('keeps a path prefix (Prometheus behind a proxy path)', async () => {
    const paths: string[] = [];
    const url = await standIn((res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success","data":{"resultType":"scalar","result":[1700000000,"0.25"]}}');
    });
    servers.at(-1)?.on('request', (req) => paths.push(`${req.method} ${req.url}`));
    expect(await createPrometheusClient(`${url}/prometheus/`).instant('vector(0.25)', Date.now())).toBe(0.25);
    expect(paths).toEqual(['POST /prometheus/api/v1/query']);
  });
});
