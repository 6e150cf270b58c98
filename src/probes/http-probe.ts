import { redactUrl } from '../core/redact.ts';
import { elapsedMs } from '../core/timeout.ts';
import type { Measurement } from './reading.ts';
import { shown, type ProbeRegistration, type ProbeTarget } from './registration.ts';
import type { ThresholdRule } from './thresholds.ts';

export interface HttpTarget {
  name: string;
  url: string;
  /** Expected status; by default any 2xx counts as healthy. */
  expectStatus?: number;
  timeoutMs: number;
}

/**
 * GET the target without following redirects (a redirect to a login page is not "healthy").
 * Credentials in the URL become a Basic authorization header, as curl would send them; fetch
 * refuses them in the URL itself. Values: `status`, `latency_ms`, `unexpected_status` (0 or 1:
 * thresholds only compare with ≥, and "not the expected status" is the probe's to decide).
 * Facts: `url` (safe to show), `expected`.
 */
export async function measureHttp(target: HttpTarget): Promise<Measurement> {
  const start = performance.now();
  const response = await getWithin(target.url, AbortSignal.timeout(target.timeoutMs));
  await response.body?.cancel();
  const latencyMs = elapsedMs(start);
  const expected = target.expectStatus === undefined ? response.status >= 200 && response.status < 300 : response.status === target.expectStatus;
  return {
    values: { status: response.status, latency_ms: latencyMs, unexpected_status: expected ? 0 : 1 },
    facts: { url: redactUrl(target.url), expected: target.expectStatus === undefined ? '2xx' : String(target.expectStatus) },
  };
}

export const HTTP_RULES: readonly ThresholdRule[] = [
  { measure: 'unexpected_status', failAt: 1, reason: 'HTTP {status}, expected {expected}' },
];

export function httpTarget(target: HttpTarget): ProbeTarget {
  return { name: target.name, measure: () => measureHttp(target), rules: HTTP_RULES };
}

export const httpProbe: ProbeRegistration = {
  kind: 'http',
  heading: 'HTTP targets',
  layout: 'table',
  targets: ({ httpTargets }) => httpTargets.map(httpTarget),
  summarize: ({ values: v }) => `HTTP ${shown(v.status)} in ${shown(v.latency_ms)} ms`,
  details: ({ values: v, facts }) => [
    { label: 'URL', value: facts.url ?? '?' },
    { label: 'Status', value: `${shown(v.status)}${v.unexpected_status === 1 ? ` (expected ${facts.expected ?? '?'})` : ''}` },
    { label: 'Latency', value: `${shown(v.latency_ms)} ms` },
  ],
};

/**
 * GET `urlText` without following redirects, credentials in the URL sent as Basic auth. A failure
 * names the URL without its secrets: fetch's own messages can quote it, query tokens included.
 * `signal` bounds the request and, while the caller reads it, the body.
 */
export async function getWithin(urlText: string, signal: AbortSignal): Promise<Response> {
  const url = new URL(urlText);
  const headers: Record<string, string> = {};
  if (url.username || url.password) {
    const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  try {
    return await fetch(url, { method: 'GET', redirect: 'manual', headers, signal });
  } catch (err) {
    throw new Error(`GET ${redactUrl(urlText)} failed: ${fetchFailure(err)}`);
  }
}

/** The useful part of a fetch failure: `ECONNREFUSED`, `timed out`, … */
export function fetchFailure(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return err instanceof Error ? err.name : 'unknown error';
}
