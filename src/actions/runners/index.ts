import { scrubSecrets } from '../../core/errors.ts';
import { redactUrl } from '../../core/redact.ts';
import type { ActionOutcome } from '../definition.ts';
import { explainParamsError, paramsSchemaFor, type ParamValues } from '../params.ts';
import { ALWAYS_PASSED_ENV, type ExecSpec, type RunnerSpec } from '../runner-config.ts';
import { checkBuiltinTarget, runBuiltin, type BuiltinDeps } from './builtins.ts';
import { execArgv, runExec, type ExecResult } from './exec.ts';
import { buildRequest, runHttp, urlParamProblem } from './http.ts';
import type { RunAs } from './run-as.ts';

export type { ActionOutcome } from '../definition.ts';
export type { BuiltinDeps } from './builtins.ts';

export interface RunnerDeps extends BuiltinDeps {
  /** Vigil's environment: exec passes the allow-listed names, http headers read `${env:NAME}`. */
  env: Readonly<Record<string, string | undefined>>;
  /** Exec actions run as this user (Vigil as root, `actions.runAs`), or refused with this reason. */
  execAs?: { runAs: RunAs | null } | { error: string };
}

export interface RunContext {
  signal: AbortSignal;
  /** A person's name: the silence's `createdBy`. */
  requestedBy: string;
}

export type ActionRunner = (params: ParamValues, ctx: RunContext) => Promise<ActionOutcome>;

/** Secrets shorter than this are not scrubbed: masking every `1` or `on` would garble output. */
const MIN_SECRET_LENGTH = 4;

/**
 * The run function of one action. Parameters are validated again here (the job's data came
 * through Redis and Postgres), so a value outside its declaration runs nothing. The outcome's
 * output is capped and scrubbed of every environment value the runner handed out.
 */
export function createRunner(spec: RunnerSpec, deps: RunnerDeps): ActionRunner {
  const schema = paramsSchemaFor(spec.params);
  // Defence in depth behind runAs: whatever an action prints, Vigil's own secrets are masked.
  const own = vigilSecrets(deps.env);
  return async (raw, ctx) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) return { ok: false, summary: `Refused: ${explainParamsError(parsed.error)}. Nothing ran.`, output: '' };
    const params = parsed.data;

    if (spec.kind === 'exec') {
      if (deps.execAs && 'error' in deps.execAs) return { ok: false, summary: `Refused: ${deps.execAs.error}. Nothing ran.`, output: '' };
      const runAs = deps.execAs && 'runAs' in deps.execAs ? deps.execAs.runAs : null;
      const r = await runExec(spec.argv, params, {
        runAs,
        timeoutMs: spec.timeoutMs,
        outputCapBytes: spec.outputCapBytes,
        envAllow: spec.envAllow,
        env: deps.env,
        signal: ctx.signal,
        ...(spec.cwd ? { cwd: spec.cwd } : {}),
      });
      const secrets = [...own, ...secretForms(spec.envAllow.filter((n) => !(ALWAYS_PASSED_ENV as readonly string[]).includes(n)).map((n) => deps.env[n] ?? ''))];
      const summary = execSummary(r, spec);
      return {
        ok: r.ok,
        summary: redactValues(summary, secrets),
        output: redactValues(r.output, secrets),
        details: { argv: r.argv.map((a) => redactValues(a, secrets)), exitCode: r.exitCode, signal: r.signal, durationMs: r.durationMs, truncated: r.truncated, timedOut: r.timedOut },
      };
    }

    if (spec.kind === 'http') {
      // Checked when it was requested; again here, where it would be sent.
      const unsafe = urlParamProblem(spec, params);
      if (unsafe) return { ok: false, summary: `Refused: ${unsafe}.`, output: '' };
      const r = await runHttp(spec, params, { env: deps.env, signal: ctx.signal, timeoutMs: spec.timeoutMs, outputCapBytes: spec.outputCapBytes, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
      const summary = r.status === null ? `${r.request}: ${r.output}` : `${r.request} answered ${r.status}.`;
      return {
        ok: r.ok,
        summary: redactValues(summary, [...own, ...secretForms(r.secretValues)]),
        output: r.status === null ? '' : redactValues(r.output, [...own, ...secretForms(r.secretValues)]),
        details: { request: r.request, status: r.status, durationMs: r.durationMs, truncated: r.truncated },
      };
    }

    const outcome = await runBuiltin(spec.builtin, params, deps, { signal: ctx.signal, requestedBy: ctx.requestedBy, timeoutMs: spec.timeoutMs });
    const output = Buffer.byteLength(outcome.output) > spec.outputCapBytes ? `${Buffer.from(outcome.output).subarray(0, spec.outputCapBytes).toString('utf8')}\n… [output truncated]` : outcome.output;
    return { ...outcome, summary: scrubSecrets(outcome.summary), output: scrubSecrets(output) };
  };
}

/**
 * What the parameter schema cannot check, at request time: for BullMQ builtins, that the queue
 * exists; for a silence, that its matchers parse. Null when fine; else a message for the requester.
 * (The runner checks again at run time.)
 */
export async function checkTarget(spec: RunnerSpec, params: ParamValues, deps: BuiltinDeps): Promise<string | null> {
  if (spec.kind === 'http') return urlParamProblem(spec, params);
  return spec.kind === 'builtin' ? checkBuiltinTarget(spec.builtin, params, deps) : null;
}

/**
 * Exactly what will run with these (validated) parameters, for the approval message: the argv
 * (quoted for reading only; it is never given to a shell), the request line and body, or the
 * builtin and its parameters. Never contains header values or env values.
 */
export function previewRun(spec: RunnerSpec, params: ParamValues): string {
  if (spec.kind === 'exec') return execArgv(spec.argv, params).map(quoteForDisplay).join(' ');
  if (spec.kind === 'http') {
    const req = buildRequest(spec, params, {});
    const body = req.body === undefined ? '' : ` with body ${req.body.length > 300 ? `${req.body.slice(0, 300)}…` : req.body}`;
    return `${spec.method} ${redactUrl(req.url)}${body}`;
  }
  const shown = Object.entries(params).map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v)}`);
  return [spec.builtin, ...shown].join(' ');
}

function execSummary(r: ExecResult, spec: ExecSpec): string {
  const took = `${(r.durationMs / 1000).toFixed(1)} s`;
  if (r.aborted && r.startError) return 'Aborted before it started (Vigil is shutting down); nothing ran.';
  if (r.startError) return `Could not start ${spec.argv[0]}: ${r.startError}.`;
  if (r.timedOut) return `Timed out after ${Math.round(spec.timeoutMs / 1000)} s; its process group was killed.`;
  if (r.aborted) return 'Aborted (Vigil is shutting down); its process group was killed.';
  if (r.signal) return `Killed by ${r.signal} after ${took}.`;
  return `Exited with code ${r.exitCode} after ${took}.`;
}

// Vigil's own secrets, by env name: tokens whole, URLs by their password.
const SECRET_ENV = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'ALERT_WEBHOOK_TOKEN', 'VIGIL_AUDIT_KEY'];
const URL_ENV = ['DATABASE_URL', 'VIGIL_DATABASE_URL', 'REDIS_URL', 'ALERTMANAGER_URL', 'PROMETHEUS_URL'];

/** Vigil's own secret values in every form they are likely to leak in (see secretForms). */
export function vigilSecrets(env: Readonly<Record<string, string | undefined>>): string[] {
  const values = SECRET_ENV.flatMap((n) => env[n] ?? []);
  for (const n of URL_ENV) {
    const raw = env[n];
    if (raw && URL.canParse(raw)) {
      const password = new URL(raw).password;
      if (password) values.push(password, decodeURIComponent(password));
    }
  }
  return secretForms(values);
}

/** A value as printed, URL-encoded and base64-encoded (`echo -n $X | base64`, standard and URL-safe, padded or not). */
export function secretForms(values: readonly string[]): string[] {
  return values.flatMap((v) => {
    if (v.length < MIN_SECRET_LENGTH) return [];
    const b64 = Buffer.from(v).toString('base64');
    return [v, encodeURIComponent(v), b64, b64.replace(/=+$/, ''), Buffer.from(v).toString('base64url')];
  });
}

function quoteForDisplay(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Mask each secret value (and, where the output was cut, a secret's beginning just before the cut
 * marker), then URL passwords and Slack tokens.
 */
export function redactValues(text: string, secrets: readonly string[]): string {
  const values = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH))].sort((a, b) => b.length - a.length);
  let out = text;
  for (const s of values) out = out.split(s).join('***');
  const cut = out.search(/\n… \[(output|body) truncated/);
  if (cut > 0) {
    let head = out.slice(0, cut);
    for (const s of values) {
      for (let k = Math.min(s.length - 1, head.length); k >= MIN_SECRET_LENGTH; k--) {
        if (head.endsWith(s.slice(0, k))) {
          head = `${head.slice(0, -k)}***`;
          break;
        }
      }
    }
    out = head + out.slice(cut);
  }
  return scrubSecrets(out);
}
