import { z } from 'zod';
import { BUILTINS, builtinParams, checkBuiltin, type BuiltinName } from './builtin-params.ts';
import { kindOf, optionalParams, paramsSpecSchema, parseDuration, templateParams, undeclaredParams, type ParamsSpec } from './params.ts';

/**
 * The runner part of a catalog action, as flat YAML keys beside `id`, `title`, `risk`, … :
 * exactly one of `exec`, `http`, `builtin`, plus `params` and the limits. The config loader embeds
 * `runnerShape` in its action object and adds `refineRunner` (zod 4 cannot `.extend` a refined
 * object), then turns each parsed action into a `RunnerSpec` with `runnerSpecOf`.
 */

/** Environment variables every exec child gets from Vigil's own environment (never secrets). */
export const ALWAYS_PASSED_ENV = ['PATH', 'HOME'] as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/**
 * Vigil's own credentials (see config/env.ts) never reach an action: an exec script or a webhook
 * has no business with the Slack tokens or the database URLs.
 */
const VIGIL_OWN = /^(SLACK_.*|DATABASE_URL|VIGIL_.*|REDIS_URL|ALERTMANAGER_URL|PROMETHEUS_URL|ALERT_WEBHOOK_TOKEN)$/;
const ENV_REF = /\$\{env:([^}]*)\}/g;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;

export const DEFAULTS = {
  execTimeoutMs: 30_000,
  httpTimeoutMs: 10_000,
  builtinTimeoutMs: 15_000,
  maxTimeoutMs: 15 * 60_000,
  outputCapBytes: 16 * 1024,
} as const;

const httpSchema = z
  .object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    /** http(s) URL; `{param}` only after the host (substituted with encodeURIComponent). */
    url: z.string().min(1).max(2000),
    /** Literal values, or values with `${env:NAME}` taken from the environment at run time. */
    headers: z.record(z.string().regex(HEADER_NAME, 'must be an HTTP header name'), z.string().max(4000)).default({}),
    /** A template: JSON-escaped values in a JSON body, form-encoded in a form body, raw otherwise. */
    body: z.string().max(20_000).optional(),
  })
  .strict();

/** Spread into the config loader's action object. */
export const runnerShape = {
  params: paramsSpecSchema.default({}),
  exec: z.array(z.string().min(1).max(4096)).min(1).max(100).optional(),
  http: httpSchema.optional(),
  builtin: z.enum(BUILTINS, { error: () => `builtin must be one of: ${BUILTINS.join(', ')}` }).optional(),
  /** How long a run may take (`30s`, `5m`). */
  timeout: z.string().optional(),
  /** Bytes of output kept (exec stdout+stderr, http response body). */
  outputCap: z.number().int().min(256).max(1024 * 1024).optional(),
  /** exec only: names of environment variables passed through besides PATH and HOME. */
  env: z.array(z.string().regex(ENV_NAME, 'must be an environment variable name')).max(50).optional(),
  /** exec only: absolute working directory. */
  cwd: z.string().startsWith('/', 'must be an absolute path').max(1000).optional(),
};

export type RunnerFields = z.output<z.ZodObject<typeof runnerShape>>;

/** Every problem of an action's runner part, as zod issues on the right keys. */
export function refineRunner(action: RunnerFields, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
  const kinds = (['exec', 'http', 'builtin'] as const).filter((k) => action[k] !== undefined);
  if (kinds.length !== 1) {
    issue([], kinds.length === 0 ? 'needs a runner: one of exec, http or builtin' : `has ${kinds.join(' and ')}: exactly one runner per action`);
    return;
  }
  if (action.timeout !== undefined) {
    const ms = parseDuration(action.timeout);
    if (ms === null || ms <= 0 || ms > DEFAULTS.maxTimeoutMs) issue(['timeout'], `must be a duration from 1s to 15m like 30s or 5m (got "${action.timeout}")`);
  }
  (action.env ?? []).forEach((name, i) => {
    if (VIGIL_OWN.test(name)) issue(['env', i], `${name} is one of Vigil's own settings and is never passed to an action`);
  });
  if (kinds[0] !== 'exec') {
    if (action.env !== undefined) issue(['env'], 'only exec actions take env (http headers name their variables as ${env:NAME})');
    if (action.cwd !== undefined) issue(['cwd'], 'only exec actions take cwd');
  }
  if (action.exec) checkExec(action.exec, action.params, issue);
  if (action.http) checkHttp(action.http, action.params, issue);
  if (action.builtin) checkBuiltin(action.builtin, action.params, issue);
}

type Issue = (path: (string | number)[], message: string) => void;

/** A template may only name parameters that always have a value. */
function checkOptional(template: string, params: ParamsSpec, path: (string | number)[], issue: Issue): void {
  for (const name of optionalParams(template, params)) issue(path, `{${name}} is optional and may have no value; templates take only parameters that are always given`);
}

function checkExec(argv: string[], params: ParamsSpec, issue: Issue): void {
  if (templateParams(argv[0] as string).length > 0) issue(['exec', 0], 'the program (first element) must be fixed, not a {parameter}');
  argv.forEach((element, i) => {
    for (const name of undeclaredParams(element, params)) issue(['exec', i], `{${name}} is not a declared parameter`);
    checkOptional(element, params, ['exec', i], issue);
    for (const name of templateParams(element)) {
      const spec = params[name];
      // Free text never reaches an argv: a script may hand it to a shell. Use an enum.
      if (spec && kindOf(spec) === 'text') issue(['exec', i], `{${name}} is a text parameter; exec arguments may only use enum, integer or duration parameters`);
    }
  });
}

function checkHttp(http: z.output<typeof httpSchema>, params: ParamsSpec, issue: Issue): void {
  for (const name of undeclaredParams(http.url, params)) issue(['http', 'url'], `{${name}} is not a declared parameter`);
  checkOptional(http.url, params, ['http', 'url'], issue);
  const first = http.url.search(/\{[A-Za-z_][A-Za-z0-9_]*\}/);
  const fixedPart = first < 0 ? http.url : http.url.slice(0, first);
  // The origin is fixed by the config: a parameter can only pick a path or query value.
  if (!/^https?:\/\/[^/?#{}]+([/?#]|$)/.test(fixedPart) || (first >= 0 && !/^https?:\/\/[^/?#]+[/?#]/.test(fixedPart))) {
    issue(['http', 'url'], 'must be an http(s) URL whose scheme and host are fixed ({parameters} only in the path or query)');
  } else {
    const sample = http.url.replace(/\{[A-Za-z_][A-Za-z0-9_]*\}/g, 'x');
    if (!URL.canParse(sample)) issue(['http', 'url'], 'is not a valid URL');
    else if (new URL(sample).username || new URL(sample).password) issue(['http', 'url'], 'must not carry credentials: send them in a header from ${env:NAME}');
  }
  for (const [name, value] of Object.entries(http.headers)) {
    if (templateParams(value).length > 0) issue(['http', 'headers', name], 'header values take no {parameters}, only literals and ${env:NAME}');
    for (const ref of envRefs(value)) {
      if (!ENV_NAME.test(ref)) issue(['http', 'headers', name], `\${env:${ref}} does not name an environment variable`);
      else if (VIGIL_OWN.test(ref)) issue(['http', 'headers', name], `${ref} is one of Vigil's own settings and is never sent by an action`);
    }
  }
  if (http.body !== undefined) {
    if (http.method === 'GET') issue(['http', 'body'], 'a GET request has no body');
    for (const name of undeclaredParams(http.body, params)) issue(['http', 'body'], `{${name}} is not a declared parameter`);
    checkOptional(http.body, params, ['http', 'body'], issue);
    if (bodyEncoding(http.headers, http.body) === 'json') {
      const sample = http.body.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, n: string) => (params[n] && kindOf(params[n]) === 'integer' ? '1' : 'x'));
      try {
        JSON.parse(sample);
      } catch {
        issue(['http', 'body'], 'is not valid JSON once parameters are filled in (write string parameters inside quotes: "{name}")');
      }
    }
  }
}

export type BodyEncoding = 'json' | 'form' | 'text';

/** JSON when the content-type says so, or when none is given and the body looks like JSON. */
export function bodyEncoding(headers: Record<string, string>, body: string): BodyEncoding {
  const type = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1]?.toLowerCase();
  if (type === undefined) return /^\s*[[{]/.test(body) ? 'json' : 'text';
  if (type.includes('json')) return 'json';
  if (type.includes('application/x-www-form-urlencoded')) return 'form';
  return 'text';
}

/** Names in `${env:NAME}` references of a header value. */
export function envRefs(value: string): string[] {
  return [...value.matchAll(ENV_REF)].map((m) => m[1] as string);
}

interface Common {
  /** Effective parameters (for builtins: the builtin's slots, narrowed by the config). */
  params: ParamsSpec;
  timeoutMs: number;
  outputCapBytes: number;
}

export type ExecSpec = Common & { kind: 'exec'; argv: string[]; envAllow: string[]; cwd?: string };
export type HttpSpec = Common & {
  kind: 'http';
  method: z.output<typeof httpSchema>['method'];
  url: string;
  headers: Record<string, string>;
  body?: string;
  bodyEncoding: BodyEncoding;
};
export type BuiltinSpec = Common & { kind: 'builtin'; builtin: BuiltinName };
export type RunnerSpec = ExecSpec | HttpSpec | BuiltinSpec;

/** A parsed (and refined) action's runner, normalised. */
export function runnerSpecOf(action: RunnerFields): RunnerSpec {
  const timeout = (fallback: number): number => (action.timeout ? (parseDuration(action.timeout) ?? fallback) : fallback);
  const outputCapBytes = action.outputCap ?? DEFAULTS.outputCapBytes;
  if (action.exec) {
    const envAllow = [...new Set([...ALWAYS_PASSED_ENV, ...(action.env ?? [])])];
    return { kind: 'exec', argv: action.exec, envAllow, params: action.params, timeoutMs: timeout(DEFAULTS.execTimeoutMs), outputCapBytes, ...(action.cwd ? { cwd: action.cwd } : {}) };
  }
  if (action.http) {
    const { method, url, headers, body } = action.http;
    return {
      kind: 'http',
      method,
      url,
      headers,
      ...(body !== undefined ? { body } : {}),
      bodyEncoding: body === undefined ? 'text' : bodyEncoding(headers, body),
      params: action.params,
      timeoutMs: timeout(DEFAULTS.httpTimeoutMs),
      outputCapBytes,
    };
  }
  if (!action.builtin) throw new Error('runnerSpecOf: an action without a runner (refineRunner was not applied)');
  return { kind: 'builtin', builtin: action.builtin, params: builtinParams(action.builtin, action.params), timeoutMs: timeout(DEFAULTS.builtinTimeoutMs), outputCapBytes };
}

/** The runner part alone, refined and normalised (for tests and loaders that nest it). */
export const runnerConfigSchema = z.object(runnerShape).strict().superRefine(refineRunner).transform(runnerSpecOf);
