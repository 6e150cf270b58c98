import type { CheckOutcome } from './check.ts';
import { elapsedMs } from '../core/timeout.ts';

export interface HttpTarget {
  name: string;
  url: string;
  /** Expected status; by default any 2xx counts as healthy. */
  expectStatus?: number;
  timeoutMs: number;
}

/** GET the target without following redirects (a redirect to a login page is not "healthy"). */
export async function probeHttp(target: HttpTarget): Promise<CheckOutcome> {
  const start = performance.now();
  const response = await fetch(target.url, {
    method: 'GET',
    redirect: 'manual',
    signal: AbortSignal.timeout(target.timeoutMs),
  });
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
