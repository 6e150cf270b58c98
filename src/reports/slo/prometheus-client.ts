import { z } from 'zod';
import { redactUrl } from '../../core/redact.ts';
import { describeError } from '../../core/errors.ts';

/**
 * A small client for Prometheus's HTTP query API (`POST /api/v1/query`, instant queries): fetch,
 * a timeout, and a zod-checked answer. Only what SLOs need: one number per query.
 */

/** Why a query gave no number, in words an on-call engineer can act on. */
export class PrometheusError extends Error {
  constructor(
    /** `unreachable`: no answer (down, refused, timed out); `query`: Prometheus refused the query; `answer`: an answer Vigil cannot use. */
    readonly kind: 'unreachable' | 'query' | 'answer',
    message: string,
  ) {
    super(message);
    this.name = 'PrometheusError';
  }
}

const sample = z.tuple([z.number(), z.string()]);

const queryAnswer = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sample })) }),
      z.object({ resultType: z.literal('scalar'), result: sample }),
      z.object({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
      z.object({ resultType: z.literal('string'), result: z.unknown() }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string().optional() }),
]);

export interface PrometheusClient {
  /**
   * Evaluate `query` at `at` (ms since the epoch). One number, or null when the answer is an empty
   * vector (no series matched: for a rate of errors that means none). More than one series is a
   * mistake in the expression (it needs `sum(...)`), reported as such.
   */
  instant(query: string, at: number): Promise<number | null>;
  /** The server as it may be shown (password masked). */
  shown: string;
}

export interface PrometheusClientOptions {
  /** Per query (default 5 s): a hanging Prometheus must not hold a command or a tick up. */
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export function createPrometheusClient(rawUrl: string, opts: PrometheusClientOptions = {}): PrometheusClient {
  const url = new URL(rawUrl);
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' };
  // Credentials in the URL are sent as Basic auth (as a reverse proxy in front of Prometheus wants), never shown.
  if (url.username || url.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  url.search = '';
  url.hash = '';
  // A path prefix (`--web.route-prefix`, a proxy path) is kept: …/prometheus/api/v1/query.
  const endpoint = `${url.toString().replace(/\/+$/, '')}/api/v1/query`;
  const shown = redactUrl(rawUrl);
  const timeoutMs = opts.timeoutMs ?? 5000;
  const fetchImpl = opts.fetchImpl ?? fetch;

  return {
    shown,
    async instant(query, at) {
      let res: Response;
      try {
        // POST: a long expression never meets a URL length limit.
        res = await fetchImpl(endpoint, {
          method: 'POST',
          headers,
          body: new URLSearchParams({ query, time: (at / 1000).toFixed(3) }).toString(),
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : causeOf(err);
        throw new PrometheusError('unreachable', `Prometheus at ${shown} did not answer (${why})`);
      }
      const text = await res.text().catch(() => '');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new PrometheusError(res.ok ? 'answer' : 'unreachable', `Prometheus at ${shown} answered HTTP ${res.status} without JSON; is PROMETHEUS_URL the Prometheus server?`);
      }
      const parsed = queryAnswer.safeParse(json);
      if (!parsed.success) throw new PrometheusError('answer', `Prometheus at ${shown} sent an answer that is not its query API's (HTTP ${res.status})`);
      const answer = parsed.data;
      if (answer.status === 'error') {
        throw new PrometheusError('query', `Prometheus refused the query ${clip(query)}: ${clip(answer.error ?? answer.errorType ?? `HTTP ${res.status}`)}`);
      }
      const data = answer.data;
      if (data.resultType === 'scalar') return toNumber(data.result[1]);
      if (data.resultType !== 'vector') throw new PrometheusError('answer', `The query ${clip(query)} gives a ${data.resultType}, not one number`);
      if (data.result.length === 0) return null;
      if (data.result.length > 1) {
        throw new PrometheusError('answer', `The query ${clip(query)} gives ${data.result.length} series; an SLO needs one number (wrap it in sum(...))`);
      }
      return toNumber((data.result[0] as { value: [number, string] }).value[1]);
    },
  };
}

/** Prometheus writes sample values as strings: "0.05", "NaN", "+Inf". */
function toNumber(value: string): number {
  if (value === '+Inf') return Infinity;
  if (value === '-Inf') return -Infinity;
  return Number(value);
}

/** fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED …). */
function causeOf(err: unknown): string {
  if (err instanceof Error && err.cause instanceof Error) {
    const code = (err.cause as Error & { code?: unknown }).code;
    return typeof code === 'string' ? code : err.cause.message;
  }
  return describeError(err);
}

function clip(s: string, max = 200): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
