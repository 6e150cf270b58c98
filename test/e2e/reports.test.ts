/**
 * Reports end to end: two replicas of the real bot (config, container, features, leased schedules,
 * outbox) on one Postgres and one Redis, the Slack stand-in in place of slack.com. An alert is
 * fired through the webhook, acknowledged with a signed click 2 s later and resolved 4 s after it
 * fired; the scheduled report (every 20 s) names it with its MTTA and MTTR, once per tick; /report
 * answers a signed slash command; `vigil report daily --json` (a real CLI process) gives the same
 * figures as numbers; the checklist records a double click once and re-posts open items with the
 * mention at the deadline.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { ALERT_SIGNING_SECRET, ALERT_WEBHOOK_TOKEN, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { TEST_REDIS_URL } from '../support/env.ts';
import { REPO_ROOT, ensureBuilt, runNode } from '../support/run-process.ts';
import { blockText, validateBlocks, type SlackApiServer, type StoredMessage } from '../support/slack-api-server.ts';
import { blockActionsBody, postSigned, signBody, signedSlashCommand } from '../support/slack-requests.ts';
import { sleep, waitFor, waitForValue } from '../support/wait.ts';

const CRIT = 'C0CRITICAL';
const OPS = 'C0OPS';
const ALERT = 'CheckoutErrors';
const alertsYaml = { channels: { critical: CRIT, default: 'C0DEFAULT' }, cooldownSeconds: { default: 1 } };
const reportsYaml = {
  daily: {
    channel: OPS,
    schedule: '*/20 * * * * *',
    window: '24h',
    checklist: { items: ['Verify dashboards', 'Check backups'], deadline: '6s', mention: 'S0ONCALL' },
  },
};

let world: BotWorld;
let slack: SlackApiServer;
let db: pg.Pool;
let replicas: AlertsBot[] = [];

const shown = (m: StoredMessage) => blockText(m.blocks);
const reports = () => slack.topLevel(OPS).filter((m) => shown(m).includes('Report daily'));
const reminders = () => slack.topLevel(OPS).filter((m) => m.text.includes('<!subteam^S0ONCALL>'));
const buttons = (m: StoredMessage) =>
  (m.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string; text?: { text: string } }> }>).flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []));

// Alertmanager's startsAt is when the alert began: what MTTA and MTTR count from.
let startsAt = new Date().toISOString();

function notification(status: 'firing' | 'resolved') {
  return {
    receiver: 'vigil',
    status,
    alerts: [
      {
        status,
        labels: { alertname: ALERT, severity: 'critical', instance: 'api-1' },
        annotations: { summary: 'Checkout answers 5xx' },
        startsAt,
        endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
        generatorURL: '',
        fingerprint: 'checkout-api-1',
      },
    ],
    groupLabels: { alertname: ALERT },
    commonLabels: { alertname: ALERT, severity: 'critical' },
    commonAnnotations: { summary: 'Checkout answers 5xx' },
    externalURL: 'http://alertmanager.example.com:9093',
    version: '4',
    groupKey: `{}:{alertname="${ALERT}"}`,
    truncatedAlerts: 0,
  };
}

async function postAlert(bot: AlertsBot, status: 'firing' | 'resolved'): Promise<void> {
  const res = await fetch(`${bot.baseUrl}/alerts/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_WEBHOOK_TOKEN}` },
    body: JSON.stringify(notification(status)),
  });
  expect(res.status).toBe(200);
}

async function click(bot: AlertsBot, message: StoredMessage, actionId: string, value: string, user: { id: string; name: string }) {
  const body = blockActionsBody({ actionId, value, userId: user.id, userName: user.name, channelId: message.channel, messageTs: message.ts, responseUrl: slack.responseUrl() });
  return postSigned(`${bot.baseUrl}/slack/events`, signBody(body, { signingSecret: ALERT_SIGNING_SECRET }));
}

let firedAt = 0;

beforeAll(async () => {
  world = await createBotWorld('reports_e2e');
  ({ slack, db } = world);
  const start = () => startAlertsBot({ slack, databaseUrl: world.testDb.url, workDir: world.workDir, queuePrefix: world.queuePrefix, alerts: alertsYaml, extra: { reports: reportsYaml } });
  replicas = [await start(), await start()];
  const [a, b] = replicas as [AlertsBot, AlertsBot];

  // Fired through replica A, acknowledged 2 s later through B, resolved 4 s after it fired.
  startsAt = new Date().toISOString();
  await postAlert(a, 'firing');
  const message = await waitForValue(() => slack.topLevel(CRIT).find((m) => shown(m).includes(ALERT)), 'the alert message', 10_000);
  firedAt = (await db.query<{ fired_at: Date }>('SELECT fired_at FROM vigil.alert_groups')).rows[0]?.fired_at.getTime() ?? 0;
  const ack = buttons(message).find((e) => e.action_id?.startsWith('alerts.ack#'));
  await sleep(firedAt + 2000 - Date.now());
  expect((await click(b, message, ack?.action_id ?? '', ack?.value ?? '', { id: 'U0ALICE', name: 'alice' })).status).toBe(200);
  await sleep(firedAt + 4000 - Date.now());
  await postAlert(a, 'resolved');
  await waitFor(async () => (await db.query("SELECT 1 FROM vigil.alert_groups WHERE status = 'resolved'")).rows.length === 1, { timeoutMs: 10_000, what: 'the resolve applied' });
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await world?.close();
});

describe('scheduled reports with two replicas', () => {
  it('post one report per tick, naming the alert with its MTTA and MTTR, within Block Kit limits', async () => {
    // The first tick after the resolve, and the one after it: 20 s apart, one post each.
    const naming = await waitForValue(() => reports().find((m) => shown(m).includes(ALERT) && shown(m).includes('4s')), 'a report naming the alert resolved', 30_000);
    const count = reports().length;
    await waitFor(() => reports().length > count, { timeoutMs: 30_000, what: 'the next tick’s report' });
    await sleep(3000); // a second replica posting the same tick would have done so by now
    const posted = reports();
    const runs = (await db.query<{ tick_at: Date }>("SELECT tick_at FROM vigil.report_runs WHERE name = 'daily' ORDER BY tick_at")).rows;
    expect(posted).toHaveLength(runs.length);
    const ticks = runs.map((r) => r.tick_at.getTime());
    for (let i = 1; i < ticks.length; i++) expect((ticks[i] as number) - (ticks[i - 1] as number)).toBeGreaterThanOrEqual(20_000);
    for (const t of ticks) expect(new Date(t).getUTCSeconds() % 20).toBe(0);
    const postedAt = posted.map((m) => m.postedAt);
    for (let i = 1; i < postedAt.length; i++) expect((postedAt[i] as number) - (postedAt[i - 1] as number)).toBeGreaterThan(10_000);

    const text = shown(naming);
    expect(text).toMatch(new RegExp(`critical\\s+${ALERT}\\s+\\d+\\s+0\\s+2s\\s+4s`));
    expect(text).toMatch(/Response times \(MTTA, MTTR\)/);
    expect(text).toMatch(/critical\s+1\s+2s \(1 acked\)\s+15m\s+4s \(1 resolved\)/);
    expect(validateBlocks(naming.blocks)).toEqual([]);
    expect(slack.violations).toEqual([]);
  }, 90_000);
});

describe('/report on demand', () => {
  it('answers a signed slash command with the report over its window', async () => {
    const res = await postSigned(`${replicas[0]?.baseUrl}/slack/events`, signedSlashCommand({ command: '/report', text: 'daily --window 1h', user_name: 'alice' }, { signingSecret: ALERT_SIGNING_SECRET }));
    expect(res.status).toBe(200);
    const answer = JSON.stringify(res.json);
    expect(answer).toContain('Report daily · last 1h');
    expect(answer).toContain(ALERT);
    expect(answer).toContain('2s (1 acked)');
  });

  it('`vigil report daily --json` gives MTTA ≈ 2 s and MTTR ≈ 4 s as numbers', async () => {
    ensureBuilt();
    const cli = await runNode([join(REPO_ROOT, 'src', 'bin', 'vigil.mjs'), 'report', 'daily', '--json'], {
      DATABASE_URL: world.testDb.url,
      REDIS_URL: TEST_REDIS_URL,
      VIGIL_CONFIG: replicas[0]?.configPath ?? '',
    });
    expect(cli.stderr).toBe('');
    const data = JSON.parse(cli.stdout) as { report: string; window: { seconds: number }; responseTimes: Record<string, { mttaSeconds: number; mttrSeconds: number; acknowledged: number; resolved: number }> };
    expect(data.report).toBe('daily');
    expect(data.window.seconds).toBe(86_400);
    const critical = data.responseTimes.critical;
    expect(critical?.acknowledged).toBe(1);
    expect(critical?.resolved).toBe(1);
    expect(critical?.mttaSeconds).toBeGreaterThanOrEqual(1.9);
    expect(critical?.mttaSeconds).toBeLessThan(2.6);
    expect(critical?.mttrSeconds).toBeGreaterThanOrEqual(3.9);
    expect(critical?.mttrSeconds).toBeLessThan(4.6);
  }, 40_000);
});

describe('the checklist', () => {
  it('records a double click once (audited both times), shows who, and re-posts the open item with the mention once', async () => {
    const [a, b] = replicas as [AlertsBot, AlertsBot];
    // A report posted from now on: clicked well before its 6 s deadline.
    const since = Date.now();
    const report = await waitForValue(() => reports().find((m) => m.postedAt >= since && buttons(m).length === 2), 'a fresh report with its checklist', 30_000);
    const first = buttons(report)[0];
    expect(first?.text?.text).toBe('Done: Verify dashboards');
    const alice = { id: 'U0ALICE', name: 'alice' };
    const answers = await Promise.all([click(a, report, first?.action_id ?? '', first?.value ?? '', alice), click(b, report, first?.action_id ?? '', first?.value ?? '', alice)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    await waitFor(() => slack.responses.some((r) => JSON.stringify(r.body).includes('was already done by <@U0ALICE>')), { what: 'the second click told it was done already' });
    await waitFor(() => shown(report).includes('Checklist: 1 of 2 done'), { timeoutMs: 10_000, what: 'the report showing the item done' });
    expect(shown(report)).toContain('done by <@U0ALICE>');
    const runId = Number((first?.value ?? '').split(':')[0]);
    const items = await db.query<{ checked_by: string | null }>('SELECT checked_by FROM vigil.report_checklist_items WHERE run_id = $1 ORDER BY position', [runId]);
    expect(items.rows.map((r) => r.checked_by)).toEqual(['U0ALICE', null]);
    const audit = await db.query<{ actor_id: string; outcome: string }>("SELECT actor_id, outcome FROM vigil.audit_events WHERE kind = 'report.check' AND details->>'position' = '0' AND details->>'tick' = (SELECT to_char(tick_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM vigil.report_runs WHERE id = $1)", [runId]);
    expect(audit.rows.map((r) => r.outcome).sort()).toEqual(['already_checked', 'checked']);

    const { rows } = await db.query<{ tick_at: Date }>('SELECT tick_at FROM vigil.report_runs WHERE id = $1', [runId]);
    const stamp = (rows[0]?.tick_at as Date).toISOString().slice(0, 19).replace('T', ' ');
    const forThisRun = () => reminders().filter((m) => shown(m).includes(stamp));
    await waitFor(() => forThisRun().length > 0, { timeoutMs: 20_000, what: 'the reminder at the deadline' });
    await sleep(6000); // two more checklist ticks: still one reminder
    expect(forThisRun()).toHaveLength(1);
    const reminder = forThisRun()[0] as StoredMessage;
    expect(reminder.text).toContain('1 checklist item(s) of the daily report are still open');
    expect(buttons(reminder).map((e) => e.text?.text)).toEqual(['Done: Check backups']);
  }, 60_000);
});
