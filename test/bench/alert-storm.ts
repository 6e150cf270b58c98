/**
 * Benchmark 5: an alert storm through a REAL Alertmanager 0.25. 10,000 alerts in 500 groups
 * (alertname Storm000…Storm499, 20 instances each, severities critical/warning/info in turn) are
 * pushed to its API v2 over 60 s: each group's first 10 instances arrive together (a new group
 * every 100 ms for 50 s), its other 10 ten seconds later, so groups are posted and then change.
 *
 * Run 1, Vigil: Alertmanager (group_by [alertname], group_wait 1s, group_interval 2s,
 * send_resolved) posts its webhook to the real bot, run as `src/main.ts` in a process of its own
 * (its RSS is its own, sampled every 250 ms) with its DEFAULT outbox pace (0.9/s per channel,
 * burst 3) and storm mode (10 new groups a minute per channel), one channel per severity. The
 * Slack stand-in allows 1 chat.postMessage/s per channel with bursts of 3 and answers 429 beyond.
 * After the push, up to 60 s to settle (less once every alert is shown and Slack has been quiet).
 *
 * Run 2, the same storm with Alertmanager's own `slack_configs` (what teams use without Vigil).
 * They post incoming-webhook style (`POST api_url` with {channel, attachments}; success is the
 * text "ok"), which the Slack stand-in does not take, so this file has a small endpoint of its
 * own with the same per-channel token bucket, answering 429 with Retry-After beyond it. It gets
 * the same wall time as run 1.
 *
 * What Slack shows at the end decides "shown": a group whose own message says `20 firing`, or
 * whose alert name is a line of its channel's storm summary with a firing count of 20 (for
 * Alertmanager: a post titled `[FIRING:20] StormNNN`). Alerts missing = 10,000 − alerts shown.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startAlertmanager, type Alertmanager, type PostableAlert } from '../support/alertmanager.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { blockText, startSlackApiServer, type SlackApiServer } from '../support/slack-api-server.ts';
import { sleep } from '../support/wait.ts';
import { startVigilProcess, type VigilProcess } from '../support/vigil-process.ts';

const GROUPS = 500;
const PER_GROUP = 20;
const TOTAL = GROUPS * PER_GROUP;
const FIRST_WAVE = 10;
// Group g's first wave at g × 100 ms (the last at 49.9 s), its second wave 10 s later (≤ 59.9 s).
const GROUP_EVERY_MS = 100;
const SECOND_WAVE_AFTER_MS = 10_000;
const PUSH_MS = 60_000;
const BATCH_EVERY_MS = 500;
const SETTLE_MAX_MS = 60_000;
// Settled early once every alert is shown and no Slack call came for this long.
const QUIET_MS = 5_000;
const PROGRESS_EVERY_MS = 15_000;
const SEVERITIES = ['critical', 'warning', 'info'] as const;
const CHANNELS: Record<(typeof SEVERITIES)[number], string> = { critical: 'C0STORMCRIT', warning: 'C0STORMWARN', info: 'C0STORMINFO' };
const SLACK_PACE = { perChannelPerSecond: 1, burst: 3 };
const TARGET_RSS_MB = 250;
const ROUTE = { groupBy: ['alertname'], groupWait: '1s', groupInterval: '2s', repeatInterval: '1h', sendResolved: true };

const groupName = (g: number): string => `Storm${String(g).padStart(3, '0')}`;
const severityOf = (g: number): (typeof SEVERITIES)[number] => SEVERITIES[g % SEVERITIES.length] as (typeof SEVERITIES)[number];

interface Scheduled {
  atMs: number;
  group: number;
  instance: number;
}

/** Every alert with the time (from the start of the push) it is sent to Alertmanager. */
function schedule(): Scheduled[] {
  const out: Scheduled[] = [];
  for (let g = 0; g < GROUPS; g++) {
    for (let i = 0; i < PER_GROUP; i++) out.push({ atMs: g * GROUP_EVERY_MS + (i < FIRST_WAVE ? 0 : SECOND_WAVE_AFTER_MS), group: g, instance: i });
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

function postable(s: Scheduled, startsAt: string): PostableAlert {
  const name = groupName(s.group);
  const instance = `node-${String(s.instance).padStart(2, '0')}.storm.example:9100`;
  return {
    labels: { alertname: name, severity: severityOf(s.group), instance, job: 'node' },
    annotations: {
      summary: `${name} on ${instance}`,
      description: `Synthetic storm alert ${s.group}/${s.instance} from the Vigil benchmark.`,
      runbook_url: `https://runbooks.example.com/${name}`,
    },
    startsAt,
    generatorURL: `http://prometheus.example.com:9090/graph?g0.expr=storm_${s.group}`,
  };
}

/**
 * Push the whole storm to Alertmanager in batches every 500 ms over 60 s (each batch: the alerts
 * due by then). `tick` runs after each batch (progress lines). Returns failed pushes.
 */
async function pushStorm(am: Alertmanager, tick: (elapsedMs: number, pushed: number) => void): Promise<{ failures: string[]; pushed: number }> {
  const all = schedule();
  const failures: string[] = [];
  const start = Date.now();
  let next = 0;
  let pushed = 0;
  for (let batchAt = 0; batchAt < PUSH_MS; batchAt += BATCH_EVERY_MS) {
    const wait = start + batchAt - Date.now();
    if (wait > 0) await sleep(wait);
    const due: Scheduled[] = [];
    while (next < all.length && (all[next] as Scheduled).atMs < batchAt + BATCH_EVERY_MS) due.push(all[next++] as Scheduled);
    if (due.length > 0) {
      const startsAt = new Date().toISOString();
      try {
        await am.pushAlerts(due.map((s) => postable(s, startsAt)));
        pushed += due.length;
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
    }
    tick(Date.now() - start, pushed);
  }
  return { failures, pushed };
}

// ---------------------------------------------------------------------------------------------
// What Slack shows.

interface Shown {
  /** Alerts of each group shown (0…20), by group index. */
  perGroup: number[];
  groupsVisible: number;
  alertsMissing: number;
  /** Groups with a message of their own / counted in a storm summary line. */
  ownMessages: number;
  inSummary: number;
  /** Groups a summary counts but does not list ("N more alert names not listed"). */
  unlisted: number;
}

const NAME_RE = /Storm\d{3}/;

/** What the Vigil run's channels show now (see the file comment for the rules). */
function vigilShown(slack: SlackApiServer): Shown {
  const perGroup = Array.from({ length: GROUPS }, () => 0);
  let ownMessages = 0;
  let inSummary = 0;
  let unlisted = 0;
  for (const channel of Object.values(CHANNELS)) {
    for (const m of slack.topLevel(channel)) {
      const text = blockText(m.blocks) || m.text;
      const first = text.split('\n')[0] ?? '';
      if (first.includes('Alert storm')) {
        // Table lines: `✗ critical  Storm123  20  1` (status mark, severity, alert, firing, groups).
        for (const row of text.split('\n')) {
          const match = /^\S*\s+\S+\s+(Storm\d{3})\s+(\d+)\s+(\d+)\s*$/.exec(row);
          if (!match) continue;
          const g = Number((match[1] as string).slice(5));
          inSummary += 1;
          perGroup[g] = Math.max(perGroup[g] as number, Math.min(PER_GROUP, Number(match[2])));
        }
        const more = /(\d+) more alert names not listed/.exec(text);
        if (more) unlisted += Number(more[1]);
        continue;
      }
      // A group's own message: its header is `🔥 CRITICAL · Storm123` (after a mention, if any).
      const name = /· (Storm\d{3})/.exec(text)?.[1];
      if (!name) continue;
      ownMessages += 1;
      const firing = /\*Alerts\*\n(\d+) firing/.exec(text);
      const g = Number(name.slice(5));
      perGroup[g] = Math.max(perGroup[g] as number, firing ? Math.min(PER_GROUP, Number(firing[1])) : 0);
    }
  }
  return summarizeShown(perGroup, { ownMessages, inSummary, unlisted });
}

function summarizeShown(perGroup: number[], rest: Pick<Shown, 'ownMessages' | 'inSummary' | 'unlisted'>): Shown {
  const shownAlerts = perGroup.reduce((a, b) => a + b, 0);
  return { perGroup, groupsVisible: perGroup.filter((n) => n > 0).length, alertsMissing: TOTAL - shownAlerts, ...rest };
}

interface SlackTally {
  posts: number;
  updates: number;
  replies: number;
  rateLimited: number;
  violations: number;
  otherErrors: Map<string, number>;
  lastCallAt: number;
}

function vigilTally(slack: SlackApiServer): SlackTally {
  const t: SlackTally = { posts: 0, updates: 0, replies: 0, rateLimited: 0, violations: slack.violations.length, otherErrors: new Map(), lastCallAt: 0 };
  for (const c of slack.calls) {
    if (c.method === 'auth.test') continue;
    t.lastCallAt = Math.max(t.lastCallAt, c.at);
    if (c.status === 429) {
      t.rateLimited += 1;
      continue;
    }
    if (c.response.ok !== true) {
      const key = `${c.method}: ${c.status === 200 ? String(c.response.error) : `HTTP ${c.status}`}`;
      t.otherErrors.set(key, (t.otherErrors.get(key) ?? 0) + 1);
      continue;
    }
    if (c.method === 'chat.update') t.updates += 1;
    else if (c.method === 'chat.postMessage' && c.body.thread_ts !== undefined) t.replies += 1;
    else if (c.method === 'chat.postMessage') t.posts += 1;
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Run 2's Slack: an incoming-webhook endpoint with Slack's per-channel pace.

interface WebhookSlack {
  url: string;
  posts: Array<{ channel: string; title: string; at: number }>;
  rateLimited: number;
  /** Posts sent to a channel before the Retry-After it was given had passed. */
  ignoredRetryAfter: number;
  errors: number;
  close(): Promise<void>;
}

async function startWebhookSlack(pace: { perChannelPerSecond: number; burst: number }): Promise<WebhookSlack> {
  const buckets = new Map<string, { tokens: number; last: number }>();
  const retryUntil = new Map<string, number>();
  const self: Omit<WebhookSlack, 'url' | 'close'> = { posts: [], rateLimited: 0, ignoredRetryAfter: 0, errors: 0 };
  const take = (channel: string, t: number): boolean => {
    const b = buckets.get(channel) ?? { tokens: pace.burst, last: t };
    b.tokens = Math.min(pace.burst, b.tokens + ((t - b.last) / 1000) * pace.perChannelPerSecond);
    b.last = t;
    buckets.set(channel, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };
  const answer = (res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(text);
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: { channel?: unknown; attachments?: Array<{ title?: unknown }> };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        self.errors += 1;
        return answer(res, 400, 'invalid_payload');
      }
      const channel = typeof body.channel === 'string' ? body.channel : '';
      if (req.method !== 'POST' || channel === '') {
        self.errors += 1;
        return answer(res, 404, 'channel_not_found');
      }
      const t = Date.now();
      if (t < (retryUntil.get(channel) ?? 0)) self.ignoredRetryAfter += 1;
      if (!take(channel, t)) {
        self.rateLimited += 1;
        retryUntil.set(channel, t + 1000);
        return answer(res, 429, 'rate_limited', { 'retry-after': '1' });
      }
      const title = body.attachments?.map((a) => (typeof a.title === 'string' ? a.title : '')).join(' ') ?? '';
      self.posts.push({ channel, title, at: t });
      answer(res, 200, 'ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return Object.assign(self, {
    url: `http://127.0.0.1:${port}/services/T0BENCH/B0BENCH/storm`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** A channel shows every post; a group's alerts are shown up to the largest `[FIRING:N]` posted for it. */
function webhookShown(w: WebhookSlack): Shown {
  const perGroup = Array.from({ length: GROUPS }, () => 0);
  for (const p of w.posts) {
    const match = /\[FIRING:(\d+)\]\s*(Storm\d{3})/.exec(p.title);
    if (!match) continue;
    const g = Number((match[2] as string).slice(5));
    perGroup[g] = Math.max(perGroup[g] as number, Math.min(PER_GROUP, Number(match[1])));
  }
  return summarizeShown(perGroup, { ownMessages: new Set(w.posts.map((p) => NAME_RE.exec(p.title)?.[0]).filter(Boolean)).size, inSummary: 0, unlisted: 0 });
}

/** Alertmanager's own count of notifications it attempted and of those that failed (its /metrics). */
async function notificationMetrics(am: Alertmanager): Promise<{ total: string; failed: string }> {
  try {
    const text = await (await fetch(`${am.url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    const sum = (name: string): number => {
      let n = 0;
      for (const m of text.matchAll(new RegExp(`^${name}\\{[^}]*\\}\\s+(\\S+)$`, 'gm'))) n += Number(m[1]);
      return n;
    };
    return { total: String(sum('alertmanager_notifications_total')), failed: String(sum('alertmanager_notifications_failed_total')) };
  } catch {
    return { total: '?', failed: '?' };
  }
}

// ---------------------------------------------------------------------------------------------

interface Row {
  system: string;
  posts: number | string;
  updates: number | string;
  replies: number | string;
  rateLimited: number;
  groupsVisible: number;
  alertsMissing: number;
  peakRss: string;
}

function table(rows: Row[]): string {
  const head = ['system', 'posts', 'updates', 'replies', '429s', 'groups visible', 'alerts missing', 'peak RSS'];
  const cells = rows.map((r) => [r.system, String(r.posts), String(r.updates), String(r.replies), String(r.rateLimited), `${r.groupsVisible} / ${GROUPS}`, `${r.alertsMissing} / ${TOTAL}`, r.peakRss]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const fmt = (c: string[]) => `  ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join(' │ ')}`;
  return [fmt(head), `  ${widths.map((w) => '─'.repeat(w)).join('─┼─')}`, ...cells.map(fmt)].join('\n');
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(0)} s`;

export async function benchAlertStorm(): Promise<void> {
  console.log(
    `\n5. Alert storm: ${TOTAL} alerts in ${GROUPS} groups pushed over ${PUSH_MS / 1000} s into a real Alertmanager (group_wait ${ROUTE.groupWait}, group_interval ${ROUTE.groupInterval}); ` +
      `Slack allows ${SLACK_PACE.perChannelPerSecond} post/s per channel (burst ${SLACK_PACE.burst}); 3 channels by severity`,
  );
  const benchStart = Date.now();
  const workDir = await mkdtemp(join(tmpdir(), 'vigil-bench-storm-'));
  const prefix = uniqueName('bench_storm');
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  let database: TestDatabase | null = null;
  let slack: SlackApiServer | null = null;
  let vigil: VigilProcess | null = null;
  let am: Alertmanager | null = null;
  let webhookSlack: WebhookSlack | null = null;
  const rows: Row[] = [];
  try {
    // ---- Run 1: Vigil.
    database = await createTestDatabase('bench_storm');
    slack = await startSlackApiServer(SLACK_PACE);
    const token = `storm-${randomBytes(16).toString('hex')}`;
    vigil = await startVigilProcess({
      workDir,
      config: {
        state: { queuePrefix: prefix },
        bullmq: { prefix: `${prefix}_inspected` },
        alerts: { channels: { ...CHANNELS, default: 'C0STORMOTHER' } },
      },
      env: {
        SLACK_BOT_TOKEN: `xoxb-bench-${randomBytes(8).toString('hex')}`,
        SLACK_SIGNING_SECRET: `bench-signing-secret-${randomBytes(8).toString('hex')}`,
        SLACK_API_URL: `${slack.url}/api/`,
        DATABASE_URL: database.url,
        REDIS_URL: TEST_REDIS_URL,
        ALERT_WEBHOOK_TOKEN: token,
      },
    });
    am = await startAlertmanager({ webhookUrl: `${vigil.baseUrl}/alerts/alertmanager`, bearerToken: token, ...ROUTE });
    console.log(`  run 1 — Vigil (pid ${vigil.pid}, default outbox 0.9/s burst 3, storm mode 10 new groups/min per channel):`);
    const running = vigil;
    const stand = slack;
    const progress = (label: string, elapsedMs: number, extra: string): void => console.log(`    ${label} ${secs(elapsedMs).padStart(5)}: ${extra}`);
    const vigilLine = (pushed?: number): string => {
      const t = vigilTally(stand);
      const s = vigilShown(stand);
      return (
        `${pushed === undefined ? '' : `${pushed} alerts pushed; `}Slack ${t.posts} posts, ${t.updates} updates, ${t.replies} replies, ${t.rateLimited} × 429; ` +
        `${s.groupsVisible} groups visible, ${s.alertsMissing} alerts missing; RSS ${(running.rssSamples.at(-1) ?? 0).toFixed(0)} MB`
      );
    };
    let nextProgress = PROGRESS_EVERY_MS;
    const runStart = Date.now();
    const push1 = await pushStorm(am, (elapsed, pushed) => {
      if (elapsed < nextProgress) return;
      nextProgress += PROGRESS_EVERY_MS;
      progress('push', elapsed, vigilLine(pushed));
    });
    const pushedAt = Date.now();
    progress('push', pushedAt - runStart, vigilLine(push1.pushed));
    // Settle: until every alert is shown and Slack has been quiet for a while, at most 60 s.
    let nextSettle = PROGRESS_EVERY_MS;
    for (;;) {
      await sleep(1_000);
      const waited = Date.now() - pushedAt;
      const quiet = Date.now() - Math.max(vigilTally(stand).lastCallAt, pushedAt) >= QUIET_MS;
      if (waited >= SETTLE_MAX_MS || (quiet && vigilShown(stand).alertsMissing === 0)) break;
      if (waited >= nextSettle) {
        nextSettle += PROGRESS_EVERY_MS;
        progress('settle', waited, vigilLine());
      }
    }
    const amMetrics1 = await notificationMetrics(am);
    const runMs = Date.now() - runStart;
    const settleMs = Date.now() - pushedAt;

    // Inside Vigil at the end: what Alertmanager delivered and how far it got.
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    const notes = (await db.query<{ stored: string; applied: string; failed: string }>(
      'SELECT count(*) AS stored, count(processed_at) AS applied, count(*) FILTER (WHERE last_error IS NOT NULL) AS failed FROM vigil.alert_notifications',
    )).rows[0];
    const groups = (await db.query<{ total: string; posted: string; stormed: string }>(
      'SELECT count(*) AS total, count(message_key) AS posted, count(storm_id) AS stormed FROM vigil.alert_groups',
    )).rows[0];
    const storms = (await db.query<{ channel: string; summary_version: number; ended_at: Date | null }>('SELECT channel, summary_version, ended_at FROM vigil.alert_storms ORDER BY id')).rows;
    await db.end();
    const outboxLeft = await redis.zcard(`${prefix}:outbox:enqueued`);

    const t1 = vigilTally(slack);
    const s1 = vigilShown(slack);
    const vigilRss = vigil.peakRssMb();
    const warnings = new Map(vigil.warningCounts);
    const warningTail = vigil.warnings.slice(-5).map((w) => w.line);
    await am.stop();
    am = null;
    const how = await vigil.stop();
    vigil = null;
    rows.push({
      system: 'Vigil',
      posts: t1.posts,
      updates: t1.updates,
      replies: t1.replies,
      rateLimited: t1.rateLimited,
      groupsVisible: s1.groupsVisible,
      alertsMissing: s1.alertsMissing,
      peakRss: `${vigilRss.toFixed(0)} MB`,
    });
    console.log(`    done after ${secs(runMs)} (push ${secs(pushedAt - runStart)}, settle ${secs(settleMs)}); Vigil ${how} on SIGTERM`);
    if (push1.failures.length > 0) console.log(`    push failures: ${push1.failures.length} (first: ${push1.failures[0]})`);

    // ---- Run 2: Alertmanager's own slack_configs, the same storm and the same wall time.
    webhookSlack = await startWebhookSlack(SLACK_PACE);
    am = await startAlertmanager({
      webhookUrl: webhookSlack.url, // unused: the receiver below has slack_configs only
      ...ROUTE,
      extraConfig: {
        receiver: {
          webhook_configs: [],
          slack_configs: [{ api_url: webhookSlack.url, channel: '#storm-{{ .CommonLabels.severity }}', send_resolved: true }],
        },
      },
    });
    console.log(`  run 2 — Alertmanager slack_configs (incoming webhook, same storm, ${secs(runMs)}):`);
    const hook = webhookSlack;
    const hookLine = (pushed?: number): string => {
      const s = webhookShown(hook);
      return `${pushed === undefined ? '' : `${pushed} alerts pushed; `}Slack ${hook.posts.length} posts, ${hook.rateLimited} × 429; ${s.groupsVisible} groups visible, ${s.alertsMissing} alerts missing`;
    };
    nextProgress = PROGRESS_EVERY_MS;
    const run2Start = Date.now();
    const push2 = await pushStorm(am, (elapsed, pushed) => {
      if (elapsed < nextProgress) return;
      nextProgress += PROGRESS_EVERY_MS;
      progress('push', elapsed, hookLine(pushed));
    });
    const pushed2At = Date.now();
    const atPushEnd2 = webhookShown(webhookSlack);
    progress('push', pushed2At - run2Start, hookLine(push2.pushed));
    let nextSettle2 = PROGRESS_EVERY_MS;
    while (Date.now() - run2Start < runMs) {
      await sleep(Math.max(0, Math.min(1_000, runMs - (Date.now() - run2Start))));
      const waited = Date.now() - pushed2At;
      if (waited >= nextSettle2 && Date.now() - run2Start < runMs - 1_000) {
        nextSettle2 += PROGRESS_EVERY_MS;
        progress('settle', waited, hookLine());
      }
    }
    const s2 = webhookShown(webhookSlack);
    const amMetrics2 = await notificationMetrics(am);
    await am.stop();
    am = null;
    rows.push({
      system: 'Alertmanager slack_configs',
      posts: webhookSlack.posts.length,
      updates: '—',
      replies: '—',
      rateLimited: webhookSlack.rateLimited,
      groupsVisible: s2.groupsVisible,
      alertsMissing: s2.alertsMissing,
      peakRss: '—',
    });
    if (push2.failures.length > 0) console.log(`    push failures: ${push2.failures.length} (first: ${push2.failures[0]})`);

    // ---- Report.
    console.log(`\n  After ${secs(runMs)} each (60 s push + settle):`);
    console.log(table(rows));
    console.log(
      `  targets for Vigil: 429s ${t1.rateLimited === 0 ? 'MET' : 'NOT MET'} (0; stand-in violations ${t1.violations}), ` +
        `alerts missing ${s1.alertsMissing === 0 ? 'MET' : 'NOT MET'} (0), peak RSS ${vigilRss <= TARGET_RSS_MB ? 'MET' : 'NOT MET'} (≤ ${TARGET_RSS_MB} MB)`,
    );
    console.log(
      `  Vigil: Alertmanager counted ${amMetrics1.total} webhook notifications, ${amMetrics1.failed} failed; ${notes?.stored ?? '?'} webhooks stored, ${notes?.applied ?? '?'} applied (${notes?.failed ?? '?'} with an error); ` +
        `${groups?.total ?? '?'} groups: ${groups?.posted ?? '?'} with a message of their own, ${groups?.stormed ?? '?'} counted in a storm summary; ` +
        `${storms.length} storm(s) (${storms.map((s) => `${s.channel} v${s.summary_version}${s.ended_at ? ' ended' : ''}`).join(', ')}); ${outboxLeft} Slack writes still queued`,
    );
    console.log(
      `  Vigil's channels: ${s1.ownMessages} group messages; summary lines for ${s1.inSummary} groups, ${s1.unlisted} more alert names counted but not listed; ` +
        `groups partly shown: ${s1.perGroup.filter((n) => n > 0 && n < PER_GROUP).length}`,
    );
    if (t1.otherErrors.size > 0) console.log(`  Vigil's Slack errors: ${JSON.stringify(Object.fromEntries(t1.otherErrors))}`);
    if (warnings.size > 0) {
      console.log(`  Vigil logged (warn+): ${JSON.stringify(Object.fromEntries(warnings))}`);
      for (const l of warningTail) console.log(`    ${l.slice(0, 300)}`);
    }
    console.log(
      `  Alertmanager slack_configs: ${webhookSlack.posts.length} posts, ${webhookSlack.rateLimited} answered 429 ` +
        `(${webhookSlack.ignoredRetryAfter} sent within a Retry-After); Alertmanager counted ${amMetrics2.total} slack notifications, ${amMetrics2.failed} failed; ` +
        `groups partly shown: ${s2.perGroup.filter((n) => n > 0 && n < PER_GROUP).length}; ${atPushEnd2.groupsVisible} groups visible when the push ended`,
    );
    console.log(`  earlier measurement (FACTS.md): 2,660 posts, 2,516 answered 429, 140 of 500 groups visible after 60 s`);
  } finally {
    await am?.stop();
    await vigil?.stop();
    await slack?.close();
    await webhookSlack?.close();
    for (const p of [prefix, `${prefix}_inspected`]) await deleteKeysUnder(redis, p);
    redis.disconnect();
    await database?.drop();
    await rm(workDir, { recursive: true, force: true });
    console.log(`  (storm bench: ${secs(Date.now() - benchStart)} in all)`);
  }
}
