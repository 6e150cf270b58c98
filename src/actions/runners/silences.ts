import { formatMatchers, parseMatchers } from '../../core/label-matchers.ts';
import { alertmanagerEndpoint } from '../../alerts/alertmanager-api.ts';
import type { ActionOutcome } from '../definition.ts';
import { parseDuration, type ParamValues } from '../params.ts';
import { fixedParams } from '../builtin-params.ts';
import type { BuiltinContext, BuiltinDeps } from './builtins.ts';
import { deadlineSignal } from './http.ts';

/**
 * The silence builtins: `alertmanager.silence` and `alertmanager.expireSilence`, in Alertmanager
 * (API v2) or, for Vigil's own alerts, in Vigil's state.
 */

type Outcome = ActionOutcome;
const refused = (summary: string): Outcome => ({ ok: false, summary, output: '' });

/** Where silences of Vigil's own alerts (its rules, the dead-man's switch, test alerts) are kept. */
export interface OwnSilences {
  /** Whether alerts of this name are Vigil's own. */
  owns(alertname: string): boolean;
  create(s: { matchers: Array<[string, string]>; createdBy: string; comment: string; endsAt: number }): Promise<string>;
  /** `unknown`: not one of Vigil's silences (maybe Alertmanager's). */
  expire(id: string): Promise<'expired' | 'already' | 'unknown'>;
}

/** The silence builtin's own parameters (`matchers` among them); every other one is a label matcher. */
const SILENCE_OWN = new Set(fixedParams('alertmanager.silence'));

const alertmanager = (deps: BuiltinDeps) => (deps.alertmanagerUrl ? alertmanagerEndpoint(deps.alertmanagerUrl) : null);

async function amCall(deps: BuiltinDeps, ctx: BuiltinContext, method: string, path: string, body?: unknown): Promise<{ status: number; text: string; shown: string }> {
  const am = alertmanager(deps);
  if (!am) throw new Error('unreachable: checked by the caller');
  const deadline = deadlineSignal(ctx.signal, ctx.timeoutMs);
  try {
    const res = await (deps.fetch ?? fetch)(`${am.root}${path}`, {
      method,
      headers: body === undefined ? am.headers : { ...am.headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      redirect: 'manual',
      signal: deadline.signal,
    });
    const text = (await res.text()).slice(0, 2000);
    return { status: res.status, text, shown: am.shown };
  } finally {
    deadline.dispose();
  }
}

/** A silence's equality matchers: alertname, the action's label parameters, then `matchers`. */
export function silenceLabels(params: ParamValues): { ok: true; labels: Array<[string, string]> } | { ok: false; message: string } {
  const labels: Array<[string, string]> = [['alertname', String(params.alertname)]];
  for (const [k, v] of Object.entries(params)) if (!SILENCE_OWN.has(k)) labels.push([k, String(v)]);
  if (params.matchers === undefined) return { ok: true, labels };
  const parsed = parseMatchers(String(params.matchers));
  if (!parsed.ok) return { ok: false, message: `matchers: ${parsed.message}` };
  // Two matchers on one label would silence nothing (or ask which one counts): one place each.
  const taken = parsed.labels.find(([name]) => labels.some(([own]) => own === name));
  if (taken) return { ok: false, message: `matchers: ${taken[0]} is a parameter of its own; leave it out of the matchers` };
  return { ok: true, labels: [...labels, ...parsed.labels] };
}

export async function silence(deps: BuiltinDeps, params: ParamValues, ctx: BuiltinContext): Promise<Outcome> {
  const ms = parseDuration(String(params.duration));
  if (!ms) return refused(`duration ${String(params.duration)} is not a duration; nothing changed.`);
  const checked = silenceLabels(params);
  if (!checked.ok) return refused(`Refused: ${checked.message}; nothing changed.`);
  const labels = checked.labels;
  const startsAt = new Date();
  const endsAt = new Date(startsAt.getTime() + ms);
  const until = `${endsAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  // Vigil's own alerts never reach Alertmanager: their silence is kept by Vigil.
  if (deps.ownSilences?.owns(String(params.alertname))) {
    const id = await deps.ownSilences.create({ matchers: labels, createdBy: ctx.requestedBy, comment: String(params.comment), endsAt: endsAt.getTime() });
    return {
      ok: true,
      summary: `Silenced {${formatMatchers(Object.fromEntries(labels))}} in Vigil (its own alert) for ${params.duration}, until ${until} (silence ${id}).`,
      output: '',
      details: { silenceId: id, where: 'vigil', matchers: Object.fromEntries(labels), endsAt: endsAt.toISOString() },
    };
  }
  if (!deps.alertmanagerUrl) return refused('Silences need ALERTMANAGER_URL, which is not set; nothing changed.');
  const body = {
    matchers: labels.map(([name, value]) => ({ name, value, isRegex: false, isEqual: true })),
    startsAt: startsAt.toISOString(),
    endsAt: endsAt.toISOString(),
    createdBy: ctx.requestedBy,
    comment: String(params.comment),
  };
  const res = await amCall(deps, ctx, 'POST', '/api/v2/silences', body);
  const matchers = formatMatchers(Object.fromEntries(labels));
  if (res.status !== 200) return { ok: false, summary: `Alertmanager (${res.shown}) refused the silence: HTTP ${res.status}.`, output: res.text };
  const id = (JSON.parse(res.text) as { silenceID?: unknown }).silenceID;
  return {
    ok: true,
    summary: `Silenced {${matchers}} for ${params.duration}, until ${until} (silence ${String(id)}).`,
    output: '',
    details: { silenceId: id, matchers: Object.fromEntries(labels), endsAt: endsAt.toISOString() },
  };
}

export async function expireSilence(deps: BuiltinDeps, id: string, ctx: BuiltinContext): Promise<Outcome> {
  const own = deps.ownSilences ? await deps.ownSilences.expire(id) : 'unknown';
  if (own === 'expired') return { ok: true, summary: `Expired silence ${id} (Vigil's own).`, output: '', details: { silenceId: id, where: 'vigil' } };
  if (own === 'already') return { ok: true, summary: `Silence ${id} (Vigil's own) had ended already; nothing changed.`, output: '', details: { silenceId: id, where: 'vigil' } };
  if (!deps.alertmanagerUrl) return refused('Silences need ALERTMANAGER_URL, which is not set; nothing changed.');
  const current = await amCall(deps, ctx, 'GET', `/api/v2/silence/${encodeURIComponent(id)}`);
  if (current.status === 404) return refused(`Alertmanager has no silence ${id}; nothing changed.`);
  if (current.status !== 200) return { ok: false, summary: `Alertmanager (${current.shown}) answered HTTP ${current.status} for silence ${id}.`, output: current.text };
  const state = (JSON.parse(current.text) as { status?: { state?: string } }).status?.state;
  if (state === 'expired') return { ok: true, summary: `Silence ${id} had expired already; nothing changed.`, output: '', details: { silenceId: id, state } };
  const res = await amCall(deps, ctx, 'DELETE', `/api/v2/silence/${encodeURIComponent(id)}`);
  if (res.status !== 200) return { ok: false, summary: `Alertmanager (${res.shown}) refused to expire silence ${id}: HTTP ${res.status}.`, output: res.text };
  return { ok: true, summary: `Expired silence ${id}.`, output: '', details: { silenceId: id, previousState: state } };
}
