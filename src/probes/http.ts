import type { CheckOutcome } from './check.ts';
import { elapsedMs } from '../core/timeout.ts';

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
 * refuses them in the URL itself.
 */
export async function probeHttp(target: HttpTarget): Promise<CheckOutcome> {
  const url = new URL(target.url);
  const headers: Record<string, string> = {};
  if (url.username || url.password) {
    const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const start = performance.now();
  let response: Response;
  try {
    response = await fetch(url, { method: 'GET', redirect: 'manual', headers, signal: AbortSignal.timeout(target.timeoutMs) });
  } catch (err) {
    // fetch's own messages can quote the URL, query tokens included; say what failed instead.
    throw new Error(`GET ${displayUrl(target.url)} failed: ${fetchFailure(err)}`);
  }
  await response.body?.cancel();
  const latency = elapsedMs(start);
  const healthy =
    target.expectStatus === undefined
      ? response.status >= 200 && response.status < 300
      : response.status === target.expectStatus;
  return {
    status: healthy ? 'ok' : 'fail',
    summary: `HTTP ${response.status} in ${latency} ms`,
    details: [
      { label: 'URL', value: displayUrl(target.url) },
      { label: 'Status', value: `${response.status}${healthy ? '' : ` (expected ${target.expectStatus ?? '2xx'})`}` },
      { label: 'Latency', value: `${latency} ms` },
    ],
  };
}

/** A URL safe to show: credentials, query strings and fragments often carry tokens, so all are hidden. */
export function displayUrl(raw: string): string {
  const url = new URL(raw);
  url.username = '';
  url.password = '';
  const hadQuery = url.search !== '';
  url.search = '';
  url.hash = '';
  // Appended after serialising: the `search` setter would percent-encode the ellipsis.
  return hadQuery ? `${url.toString()}?…` : url.toString();
}

/** The useful part of a fetch failure: `ECONNREFUSED`, `timed out`, … */
function fetchFailure(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return err instanceof Error ? err.name : 'unknown error';
}
