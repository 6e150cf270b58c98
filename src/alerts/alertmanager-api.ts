import { z } from 'zod';
import { redactUrl } from '../core/redact.ts';

/** ALERTMANAGER_URL split for requests: base without credentials, the Basic auth they become, and what may be shown. */
export interface AlertmanagerEndpoint {
  root: string;
  headers: Record<string, string>;
  shown: string;
}

export function alertmanagerEndpoint(rawUrl: string): AlertmanagerEndpoint {
  const url = new URL(rawUrl);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  url.search = '';
  url.hash = '';
  return { root: url.toString().replace(/\/+$/, ''), headers, shown: redactUrl(rawUrl) };
}

// Reads on a timer or behind a click: an Alertmanager that hangs must not hold either up. A
// click's read is shorter: the form it opens must reach Slack within 3 s of the click.
const READ_TIMEOUT_MS = 2000;
const CLICK_TIMEOUT_MS = 1000;

const matcherSchema = z.object({ name: z.string(), value: z.string(), isRegex: z.boolean(), isEqual: z.boolean().optional() });
export type AmMatcher = z.infer<typeof matcherSchema>;

const silenceSchema = z.object({
  id: z.string(),
  createdBy: z.string(),
  comment: z.string(),
  endsAt: z.string(),
  status: z.object({ state: z.string() }),
  matchers: z.array(matcherSchema),
});
export type AmSilence = z.infer<typeof silenceSchema>;

const alertSchema = z.object({
  fingerprint: z.string(),
  labels: z.record(z.string(), z.string()),
  status: z.object({ state: z.string(), silencedBy: z.array(z.string()).nullable().optional() }),
});
export type AmAlert = z.infer<typeof alertSchema>;

/** GET a path of Alertmanager's API v2 and validate the answer; throws with a reason that names no secret. */
async function getJson<T>(am: AlertmanagerEndpoint, path: string, schema: z.ZodType<T>, fetchImpl: typeof fetch, timeoutMs = READ_TIMEOUT_MS): Promise<T> {
  const res = await fetchImpl(`${am.root}${path}`, { headers: am.headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200) throw new Error(`Alertmanager (${am.shown}) answered HTTP ${res.status} to GET ${path.split('?')[0]}`);
  const parsed = schema.safeParse(await res.json());
  if (!parsed.success) throw new Error(`Alertmanager (${am.shown}) sent an answer to GET ${path.split('?')[0]} that is not API v2`);
  return parsed.data;
}

/** `name="value"` (or `=~`, `!=`, `!~`), as amtool and the UI write them. */
export function matcherText(m: AmMatcher): string {
  const op = (m.isEqual ?? true) ? (m.isRegex ? '=~' : '=') : m.isRegex ? '!~' : '!=';
  return `${m.name}${op}${JSON.stringify(m.value)}`;
}

export interface AlertmanagerReader {
  /** Alerts silenced now (with the silences' ids), and the silences in force, by id. */
  silenced(): Promise<{ alerts: AmAlert[]; silences: Map<string, AmSilence> }>;
  /** Active and silenced alerts matching every equality matcher (what a silence would cover now). */
  matching(labels: Record<string, string>): Promise<AmAlert[]>;
}

export function alertmanagerReader(rawUrl: string, fetchImpl: typeof fetch = fetch): AlertmanagerReader {
  const am = alertmanagerEndpoint(rawUrl);
  return {
    async silenced() {
      // Only suppressed alerts (inhibited ones too: an alert can be both; those without a silence are dropped below).
      const [alerts, silences] = await Promise.all([
        getJson(am, '/api/v2/alerts?active=false&silenced=true&inhibited=true&unprocessed=false', z.array(alertSchema), fetchImpl),
        getJson(am, '/api/v2/silences', z.array(silenceSchema), fetchImpl),
      ]);
      const active = new Map(silences.filter((s) => s.status.state === 'active').map((s) => [s.id, s]));
      return { alerts: alerts.filter((a) => (a.status.silencedBy ?? []).length > 0), silences: active };
    },
    async matching(labels) {
      const filters = Object.entries(labels).map(([k, v]) => `filter=${encodeURIComponent(`${k}=${JSON.stringify(v)}`)}`);
      return getJson(am, `/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true&${filters.join('&')}`, z.array(alertSchema), fetchImpl, CLICK_TIMEOUT_MS);
    },
  };
}
