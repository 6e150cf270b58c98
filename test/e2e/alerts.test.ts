/**
 * Alerts end to end: the real bot (config, container, HTTP server, alerts feature, Slack outbox)
 * against the machine's Postgres and Redis, with the Slack stand-in in place of slack.com.
 * Notifications are posted as Alertmanager posts them; what a channel shows is read back from
 * the stand-in.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { createPool } from '../../src/db/pools.ts';
import { ALERT_SIGNING_SECRET, ALERT_WEBHOOK_TOKEN, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { blockText, startSlackApiServer, type SlackApiServer, type StoredMessage } from '../support/slack-api-server.ts';
import { TEST_REDIS_URL, uniqueId } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { blockActionsBody, postSigned, signBody, signedSlashCommand } from '../support/slack-requests.ts';
import { waitFor } from '../support/wait.ts';

const SIGNING_SECRET = ALERT_SIGNING_SECRET;
const ALERT_TOKEN = ALERT_WEBHOOK_TOKEN;
const CRIT = 'C0CRITICAL';
const WARN = 'C0WARNING';
const OTHER = 'C0DEFAULT';
const PAY = 'C0PAYMENTS';

let slack: SlackApiServer;
let testDb: TestDatabase;
let db: pg.Pool;
let workDir: string;
let queuePrefix: string;
let bot: AlertsBot | null = null;

const alertsYaml = {
  channels: { critical: CRIT, warning: WARN, default: OTHER },
  routes: [{ match: { team: 'payments' }, channel: PAY }],
  mentions: { critical: 'S0ONCALL' },
  cooldownSeconds: { critical: 1, warning: 1, default: 1 },
};

async function startBot(): Promise<AlertsBot> {
  bot = await startAlertsBot({ slack, databaseUrl: testDb.url, workDir, queuePrefix, alerts: alertsYaml });
  return bot;
}

async function stopBot(): Promise<void> {
  await bot?.stop();
  bot = null;
}

interface TestAlert {
  name: string;
  instance: string;
  status?: 'firing' | 'resolved';
  severity?: string;
  extraLabels?: Record<string, string>;
}

/** A webhook body shaped like Alertmanager 0.25's: one group per alert name. */
function notification(alerts: TestAlert[], groupStatus?: 'firing' | 'resolved') {
  const first = alerts[0] as TestAlert;
  const severity = first.severity ?? 'critical';
  const common = { alertname: first.name, severity, ...first.extraLabels };
  return {
    receiver: 'vigil',
    status: groupStatus ?? (alerts.some((a) => (a.status ?? 'firing') === 'firing') ? 'firing' : 'resolved'),
    alerts: alerts.map((a) => ({
      status: a.status ?? 'firing',
      labels: { alertname: a.name, severity: a.severity ?? severity, instance: a.instance, ...a.extraLabels },
      annotations: { summary: `${a.name} is firing`, runbook_url: `https://runbooks.example.com/${a.name}` },
      startsAt: '2026-11-26T10:00:00.123456789Z',
      endsAt: (a.status ?? 'firing') === 'resolved' ? '2026-11-26T10:12:00Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.com/graph?g0.expr=up',
      fingerprint: `${a.name}-${a.instance}`,
    })),
    groupLabels: { alertname: first.name },
    commonLabels: common,
    commonAnnotations: { summary: `${first.name} is firing` },
    externalURL: 'http://alertmanager.example.com:9093',
    version: '4',
    groupKey: `{}:{alertname="${first.name}"}`,
    truncatedAlerts: 0,
  };
}

async function postAlert(body: unknown, token: string | null = ALERT_TOKEN, raw?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  if (!bot) throw new Error('bot not started');
  const res = await fetch(`${bot.baseUrl}/alerts/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: raw ?? JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const top = (channel: string) => slack.topLevel(channel);
const shown = (m: StoredMessage | undefined) => (m ? blockText(m.blocks) : '');
async function storedCount(): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM vigil.alert_notifications');
  return Number(rows[0]?.n);
}
/** Everything stored is applied and every outbox message is out. */
async function settled(what: string, check: () => boolean): Promise<void> {
  await waitFor(
    async () => {
      const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM vigil.alert_notifications WHERE processed_at IS NULL');
      return Number(rows[0]?.n) === 0 && check();
    },
    { timeoutMs: 10_000, what },
  );
}

beforeAll(async () => {
  // A little more lenient than the bot's pace below, as Slack's ~1/s is than the default 0.9/s.
  slack = await startSlackApiServer({ perChannelPerSecond: 25, burst: 5 });
  testDb = await createTestDatabase('vigil_alerts_e2e');
  db = createPool(testDb.url, { name: 'alerts-e2e', max: 2, onIdleError: () => undefined });
  workDir = await mkdtemp(join(tmpdir(), 'vigil-alerts-'));
  queuePrefix = uniqueId('vigil-alerts');
});

afterEach(async () => {
  await stopBot();
});

afterAll(async () => {
  await stopBot();
  await slack.close();
  await db.end();
  await testDb.drop();
  await rm(workDir, { recursive: true, force: true });
  const redis = new Redis(TEST_REDIS_URL);
  await deleteKeysUnder(redis, queuePrefix);
  redis.disconnect();
});

describe('intake refuses bad requests and stores nothing of them', () => {
  it('answers 401, 400 with the reason, or 413', async () => {
    await startBot();
    const before = await storedCount();
    const good = notification([{ name: 'Refused', instance: 'a' }]);
    expect((await postAlert(good, null)).status).toBe(401);
    expect((await postAlert(good, `${ALERT_TOKEN}x`)).status).toBe(401);
    expect((await postAlert(good, 'Bearer')).status).toBe(401);

    const notJson = await postAlert(null, ALERT_TOKEN, '{"version": "4", ');
    expect(notJson).toEqual({ status: 400, json: { error: 'body is not JSON' } });
    const wrongVersion = await postAlert({ ...good, version: '3' });
    expect(wrongVersion.status).toBe(400);
    expect(String(wrongVersion.json.error)).toContain('version');
    const { groupKey: _missing, ...noGroupKey } = good;
    const missing = await postAlert(noGroupKey);
    expect(missing.status).toBe(400);
    expect(String(missing.json.error)).toContain('groupKey');

    const huge = await postAlert(null, ALERT_TOKEN, JSON.stringify({ ...good, padding: 'x'.repeat(10 * 1024 * 1024) }));
    expect(huge.status).toBe(413);

    expect(await storedCount()).toBe(before);
    expect(slack.messages().filter((m) => shown(m).includes('Refused'))).toEqual([]);
  });
});

describe('one living message per alert group', () => {
  it('posts once, ignores duplicates, updates in place, replies in the thread, and resolves the original', async () => {
    await startBot();
    const fire = notification([{ name: 'ApiDown', instance: 'api-1' }]);
    const stored = await postAlert(fire);
    expect(stored.status).toBe(200);
    expect(stored.json.status).toBe('stored');
    await settled('the first post', () => top(CRIT).some((m) => shown(m).includes('ApiDown')));
    const [message] = top(CRIT).filter((m) => shown(m).includes('ApiDown'));
    if (!message) throw new Error('no message');
    expect(message.text.startsWith('<!subteam^S0ONCALL>')).toBe(true);
    expect(shown(message)).toContain('ApiDown is firing');
    expect(JSON.stringify(message.blocks)).toContain('https://runbooks.example.com/ApiDown');

    // HA Alertmanager: the same notification twice more. Nothing visible changes.
    expect((await postAlert(fire)).status).toBe(200);
    expect((await postAlert(fire)).status).toBe(200);
    await settled('duplicates applied', () => true);
    expect(message.updates).toBe(0);

    // A second instance joins: the message is updated and the thread says so.
    await postAlert(notification([{ name: 'ApiDown', instance: 'api-1' }, { name: 'ApiDown', instance: 'api-2' }]));
    await settled('the join', () => slack.replies(CRIT, message.ts).length === 1 && message.updates === 1);
    expect(shown(message)).toContain('instance=api-2');
    expect(slack.replies(CRIT, message.ts)[0]?.text).toContain('Firing: instance=api-2');

    // Bot restart in between: another process updates the same message.
    await stopBot();
    await startBot();
    await new Promise((r) => setTimeout(r, 1100)); // past the 1 s cooldown between thread replies
    await postAlert(
      notification([
        { name: 'ApiDown', instance: 'api-1', status: 'resolved' },
        { name: 'ApiDown', instance: 'api-2', status: 'resolved' },
      ]),
    );
    await settled('the resolve', () => shown(message).includes('RESOLVED'));
    expect(top(CRIT).filter((m) => shown(m).includes('ApiDown'))).toHaveLength(1);
    expect(shown(message)).toContain('lasted');
    expect(shown(message)).not.toContain('Acknowledge');
    expect(slack.replies(CRIT, message.ts).map((r) => r.text)).toEqual([expect.stringContaining('api-2'), expect.stringContaining('Resolved after')]);
    expect(slack.violations).toEqual([]);
  });

  it('routes by severity and by label, and anything else to the default channel', async () => {
    await startBot();
    await postAlert(notification([{ name: 'DiskSlow', instance: 'db-1', severity: 'warning' }]));
    await postAlert(notification([{ name: 'CardDeclines', instance: 'pay-1', severity: 'critical', extraLabels: { team: 'payments' } }]));
    await postAlert(notification([{ name: 'NightlyReport', instance: 'cron-1', severity: 'business' }]));
    await settled('three posts', () => [WARN, PAY, OTHER].every((c) => top(c).length > 0));
    expect(shown(top(WARN)[0])).toContain('DiskSlow');
    expect(shown(top(PAY)[0])).toContain('CardDeclines');
    expect(shown(top(OTHER)[0])).toContain('NightlyReport');
    // A mention only for critical.
    expect(top(WARN)[0]?.text).not.toContain('subteam');
  });
});

describe('acknowledge', () => {
  it('records who, updates the message, and refuses to act on a resolved group', async () => {
    const { baseUrl } = await startBot();
    await postAlert(notification([{ name: 'QueueStuck', instance: 'w-1' }]));
    await settled('the post', () => top(CRIT).some((m) => shown(m).includes('QueueStuck')));
    const message = top(CRIT).find((m) => shown(m).includes('QueueStuck')) as StoredMessage;
    const button = (message.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string }> }>)
      .flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []))
      .find((e) => e.action_id?.startsWith('alerts.ack#'));
    const actionId = button?.action_id;
    const value = button?.value;
    if (!actionId || !value) throw new Error(`no Acknowledge button in ${JSON.stringify(message.blocks)}`);
    const click = (user: string) =>
      postSigned(
        `${baseUrl}/slack/events`,
        signBody(blockActionsBody({ actionId, value, userName: user, channelId: CRIT, messageTs: message.ts, responseUrl: slack.responseUrl() }), {
          signingSecret: SIGNING_SECRET,
        }),
      );
    expect((await click('alice')).status).toBe(200);
    await waitFor(() => shown(message).includes('Acknowledged by alice'), { what: 'the acknowledged message' });
    expect(shown(message)).not.toMatch(/^Acknowledge$/m);
    const { rows } = await db.query<{ acked_by: string; acked_at: Date }>("SELECT acked_by, acked_at FROM vigil.alert_groups WHERE state->'commonLabels'->>'alertname' = 'QueueStuck'");
    expect(rows[0]?.acked_by).toBe('alice');

    // A second click says who was first; after the group resolves a click cannot reopen it.
    await click('bob');
    await waitFor(() => slack.responses.some((r) => JSON.stringify(r.body).includes('Already acknowledged by alice')), { what: 'the second answer' });
    await postAlert(notification([{ name: 'QueueStuck', instance: 'w-1', status: 'resolved' }]));
    await settled('the resolve', () => shown(message).includes('RESOLVED'));
    await click('carol');
    await waitFor(() => slack.responses.some((r) => JSON.stringify(r.body).includes('already resolved')), { what: 'the late click answer' });
    expect(shown(message)).toContain('RESOLVED');
    expect(shown(message)).not.toContain('carol');
  });
});

describe('Slack failing for a while', () => {
  it('shows every alert once Slack recovers, with nothing posted twice and no request Slack would punish', async () => {
    await startBot();
    slack.inject({ method: 'chat.postMessage', status: 429, retryAfter: 1, forMs: 1500 });
    slack.inject({ method: 'chat.update', status: 500, forMs: 1500 });
    const names = Array.from({ length: 8 }, (_, i) => `Storm${i}`);
    for (const name of names) expect((await postAlert(notification([{ name, instance: 'x', severity: 'warning' }]))).status).toBe(200);
    await settled('every group shown', () => names.every((n) => top(WARN).some((m) => shown(m).includes(n))));
    for (const name of names) expect(top(WARN).filter((m) => shown(m).includes(`${name} `) || shown(m).includes(`${name}\n`))).toHaveLength(1);
    expect(slack.violations).toEqual([]);
  });
});

describe('/alerts', () => {
  it('lists the firing groups with their age and acknowledgement', async () => {
    const { baseUrl } = await startBot();
    await postAlert(notification([{ name: 'ListedAlert', instance: 'l-1', severity: 'warning' }]));
    await settled('the post', () => top(WARN).some((m) => shown(m).includes('ListedAlert')));
    const res = await postSigned(`${baseUrl}/slack/events`, signedSlashCommand({ command: '/alerts', text: 'warning' }, { signingSecret: SIGNING_SECRET }));
    expect(res.status).toBe(200);
    const answer = JSON.stringify(res.json);
    expect(answer).toContain('ListedAlert');
    expect(answer).toContain('https://slack.com/archives/C0WARNING/p');
    const none = await postSigned(`${baseUrl}/slack/events`, signedSlashCommand({ command: '/alerts', text: 'info' }, { signingSecret: SIGNING_SECRET }));
    expect(JSON.stringify(none.json)).toContain('No info alerts firing');
  });
});
