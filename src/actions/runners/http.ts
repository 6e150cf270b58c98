import { redactUrl } from '../../core/redact.ts';
import { fillTemplate, templateParams, type ParamValue, type ParamValues } from '../params.ts';
import { envRefs, type HttpSpec } from '../runner-config.ts';

export interface HttpRunOptions {
  env: Readonly<Record<string, string | undefined>>;
  signal: AbortSignal;
  timeoutMs: number;
  /** Bytes of the response body kept. */
  outputCapBytes: number;
  fetch?: typeof fetch;
}

export interface HttpResult {
  ok: boolean;
  /** Null when no response came (refused, timed out, unreachable). */
  status: number | null;
  /** `HTTP 200 OK` and the first bytes of the body, or why nothing was sent or received. */
  output: string;
  truncated: boolean;
  durationMs: number;
  /** `POST https://host/path?…` (query and password hidden), for summaries and the audit. */
  request: string;
  /**
   * The environment values put in headers. Not yet scrubbed from `output` (a server echoing a
   * token back): createRunner does that, the one place where runner output becomes an outcome.
   */
  secretValues: string[];
}

type Request = Pick<HttpSpec, 'method' | 'url' | 'headers' | 'body' | 'bodyEncoding'>;

const encodeBody: Record<HttpSpec['bodyEncoding'], (v: ParamValue) => string> = {
  // Inside a JSON string literal the template already quotes: `"{comment}"` → `"a \"b\""`.
  json: (v) => (typeof v === 'number' ? String(v) : JSON.stringify(v).slice(1, -1)),
  form: (v) => encodeURIComponent(String(v)),
  text: (v) => String(v),
};

/**
 * Why a value may not go into the URL, or null: `.` and `..` (also percent-encoded: URL parsers
 * resolve them) would move the request up the path, and `/` or `\\` would add segments, so a
 * parameter could reach another endpoint than the one the config names.
 */
export function urlParamProblem(spec: Pick<HttpSpec, 'url'>, params: ParamValues): string | null {
  // The path only: in the query a `/` is just a character.
  for (const name of templateParams(spec.url.split(/[?#]/)[0] ?? '')) {
    const value = params[name];
    if (typeof value !== 'string') continue;
    if (/[/\\]/.test(value) || /^(\.|%2e){1,2}$/i.test(value)) return `${name} ${JSON.stringify(value)} would change the URL's path; nothing was sent`;
  }
  return null;
}

/** The URL, headers and body a request would send with these values; null header = missing env. */
export function buildRequest(
  spec: Request,
  params: ParamValues,
  env: Readonly<Record<string, string | undefined>>,
): { url: string; headers: Record<string, string>; body?: string; missingEnv: string[]; secretValues: string[] } {
  const url = fillTemplate(spec.url, params, (v) => encodeURIComponent(String(v)));
  const headers: Record<string, string> = {};
  const missingEnv: string[] = [];
  const secretValues: string[] = [];
  for (const [name, template] of Object.entries(spec.headers)) {
    for (const ref of envRefs(template)) {
      const value = env[ref];
      if (value === undefined || value === '') missingEnv.push(ref);
      else secretValues.push(value);
    }
    headers[name] = template.replace(/\$\{env:([^}]*)\}/g, (_, ref: string) => env[ref] ?? '');
  }
  const body = spec.body === undefined ? undefined : fillTemplate(spec.body, params, encodeBody[spec.bodyEncoding]);
  if (body !== undefined && spec.bodyEncoding === 'json' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/json';
  }
  return { url, headers, ...(body !== undefined ? { body } : {}), missingEnv, secretValues };
}

/**
 * One HTTP request: no redirects followed (a 3xx is reported, not chased to another host), a hard
 * timeout, and only the start of the body read. Header values never appear in what is returned.
 */
export async function runHttp(spec: Request, params: ParamValues, opts: HttpRunOptions): Promise<HttpResult> {
  const started = Date.now();
  const req = buildRequest(spec, params, opts.env);
  const request = `${spec.method} ${redactUrl(req.url)}`;
  const base = { request, secretValues: req.secretValues, truncated: false };
  if (req.missingEnv.length > 0) {
    const names = [...new Set(req.missingEnv)].join(', ');
    return { ...base, ok: false, status: null, durationMs: 0, output: `Not sent: environment variable ${names} is not set (needed by a header).` };
  }
  const deadline = deadlineSignal(opts.signal, opts.timeoutMs);
  const signal = deadline.signal;
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(req.url, {
      method: spec.method,
      headers: req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      redirect: 'manual',
      signal,
    });
  } catch (err) {
    deadline.dispose();
    const why = opts.signal.aborted ? 'aborted' : signal.aborted ? `timed out after ${opts.timeoutMs} ms` : failure(err);
    return { ...base, ok: false, status: null, durationMs: Date.now() - started, output: `No response: ${why}.` };
  }
  const { text, truncated } = await readCapped(res, opts.outputCapBytes, signal).finally(deadline.dispose);
  let head = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.get('location');
    head += ` (redirect${location ? ` to ${redactUrl(new URL(location, req.url).toString())}` : ''} not followed)`;
  }
  const output = `${head}\n${text}${truncated ? `\n… [body truncated at ${opts.outputCapBytes} bytes]` : ''}`;
  return { ...base, ok: res.status >= 200 && res.status < 300, status: res.status, truncated, durationMs: Date.now() - started, output };
}

async function readCapped(res: Response, cap: number, signal: AbortSignal): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  try {
    while (!signal.aborted) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = cap - size;
      if (value.length > room) {
        parts.push(value.subarray(0, room));
        size = cap;
        truncated = true;
        break;
      }
      parts.push(value);
      size += value.length;
    }
  } catch {
    truncated = true; // the body broke off (timeout, reset): keep what came
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return { text: Buffer.concat(parts).toString('utf8'), truncated };
}

/**
 * Aborted when `parent` aborts or `ms` pass. Not `AbortSignal.any([.., AbortSignal.timeout(ms)])`:
 * on Node 20 the timeout signal inside `any` can be garbage-collected and never fire
 * (nodejs/node#57736) — seen here as a 1 s timeout that let a request run 3 s.
 */
export function deadlineSignal(parent: AbortSignal, ms: number): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(parent.reason);
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${ms} ms`)), ms);
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}

/** `fetch failed` says nothing; its cause (ECONNREFUSED, a DNS error) does. */
function failure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause.message : '';
  return cause ? `${err.message} (${cause})` : err.message;
}
