/**
 * Alerts end to end: the real bot (config, container, HTTP server, alerts feature, Slack outbox)
 * against the machine's Postgres and Redis, with the Slack stand-in in place of slack.com.
 * Notifications are posted as Alertmanager posts them; what a channel shows is read back from
 * the stand-in.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import type pg from 'pg';
import { ALERT_SIGNING_SECRET, ALERT_WEBHOOK_TOKEN, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { blockText, type SlackApiServer, type StoredMessage } from '../support/slack-api-server.ts';
import { TEST_REDIS_URL } from '../support/env.ts';
import { blockActionsBody, postSigned, signBody, signedSlashCommand, viewSubmissionBody } from '../support/slack-requests.ts';
import { waitFor } from '../support/wait.ts';
import { refreshStorms } from '../../src/alerts/storm.ts';

const SIGNING_SECRET = ALERT_SIGNING_SECRET;
const ALERT_TOKEN = ALERT_WEBHOOK_TOKEN;
const CRIT = 'C0CRITICAL';
const WARN = 'C0WARNING';
const OTHER = 'C0DEFAULT';
const PAY = 'C0PAYMENTS';

let world: BotWorld;
let slack: SlackApiServer;
let db: pg.Pool;
let workDir: string;
let queuePrefix: string;
let bot: AlertsBot | null = null;
let inspectedPrefix: string;

const alertsYaml = {
  channels: { critical: CRIT, warning: WARN, default: OTHER },
  routes: [{ match: { team: 'payments' }, channel: PAY }],
  mentions: { critical: 'S0ONCALL' },
  cooldownSeconds: { critical: 1, warning: 1, default: 1 },
  // Tests below post many groups quickly; storm mode has its own test.
  storm: { perMinute: 100 },
};

async function startBot(alerts: Record<string, unknown> = alertsYaml, extra?: Record<string, unknown>): Promise<AlertsBot> {
  bot = await startAlertsBot({ slack, databaseUrl: world.testDb.url, workDir, queuePrefix, alerts, bullmq: { prefix: inspectedPrefix }, ...(extra ? { extra } : {}) });
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
  world = await createBotWorld('alerts_e2e');
  ({ slack, db, workDir, queuePrefix } = world);
  inspectedPrefix = `${queuePrefix}-inspected`;
});

afterEach(async () => {
  await stopBot();
});

afterAll(async () => {
  await stopBot();
  await world.close();
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
    // The update goes out first, its thread reply right behind it.
    await settled('the resolve', () => shown(message).includes('RESOLVED') && slack.replies(CRIT, message.ts).length === 2);
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

describe('nothing lost, no flapping noise', () => {
  it('applies a notification stored just before the bot stopped, once the next bot starts', async () => {
    const first = await startBot();
    // The processor stops first, as if the process died right after answering Alertmanager.
    const alerts = first.vigil.container.features.find((f) => f.name === 'alerts');
    for (const worker of alerts?.workers ?? []) await worker.stop();
    expect((await postAlert(notification([{ name: 'StoredBeforeCrash', instance: 'c-1' }]))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(top(CRIT).filter((m) => shown(m).includes('StoredBeforeCrash'))).toEqual([]);
    await stopBot();

    await startBot();
    await settled('the stored notification posted by the next bot', () => top(CRIT).some((m) => shown(m).includes('StoredBeforeCrash')));
    expect(top(CRIT).filter((m) => shown(m).includes('StoredBeforeCrash'))).toHaveLength(1);
  });

  it('keeps one message with a flap count when a group resolves and fires again within its cooldown', async () => {
    await startBot({ ...alertsYaml, cooldownSeconds: { critical: 60, default: 60 } });
    const fire = notification([{ name: 'Flappy', instance: 'f-1' }]);
    const resolve = notification([{ name: 'Flappy', instance: 'f-1', status: 'resolved' }]);
    await postAlert(fire);
    await settled('the post', () => top(CRIT).some((m) => shown(m).includes('Flappy')));
    const message = top(CRIT).find((m) => shown(m).includes('Flappy')) as StoredMessage;
    for (let i = 0; i < 3; i++) {
      await postAlert(resolve);
      await postAlert(fire);
    }
    await settled('the flaps', () => shown(message).includes('Flapped 3×'));
    expect(top(CRIT).filter((m) => shown(m).includes('Flappy'))).toHaveLength(1);
    // The first resolve got its thread reply; the flaps after it only update the message.
    expect(slack.replies(CRIT, message.ts).length).toBeLessThanOrEqual(1);
  });
});

describe('acknowledge', () => {
  const USERS: Record<string, string> = { alice: 'U0ALICE', bob: 'U0BOB', carol: 'U0CAROL' };
  /** The button whose action id starts with `handler`, as the message shows it now. */
  const buttonOf = (message: StoredMessage, handler: string) =>
    (message.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string }> }>)
      .flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []))
      .find((e) => e.action_id?.startsWith(`${handler}#`));

  it('records who (as a mention), updates the message, takes it back, and refuses to act on a resolved group', async () => {
    const { baseUrl } = await startBot();
    await postAlert(notification([{ name: 'QueueStuck', instance: 'w-1' }]));
    await settled('the post', () => top(CRIT).some((m) => shown(m).includes('QueueStuck')));
    const message = top(CRIT).find((m) => shown(m).includes('QueueStuck')) as StoredMessage;
    const click = (handler: string, user: string) => {
      const button = buttonOf(message, handler);
      if (!button?.action_id || !button.value) throw new Error(`no ${handler} button in ${JSON.stringify(message.blocks)}`);
      const body = blockActionsBody({ actionId: button.action_id, value: button.value, userId: USERS[user], userName: user, channelId: CRIT, messageTs: message.ts, responseUrl: slack.responseUrl() });
      return postSigned(`${baseUrl}/slack/events`, signBody(body, { signingSecret: SIGNING_SECRET }));
    };
    const ackValue = buttonOf(message, 'alerts.ack')?.value;
    expect((await click('alerts.ack', 'alice')).status).toBe(200);
    await waitFor(() => shown(message).includes('Acknowledged by <@U0ALICE>'), { what: 'the acknowledged message' });
    expect(shown(message)).not.toMatch(/^Acknowledge$/m);
    // The message can show a moment before the transaction that changed the group commits.
    const ackedBy = async () => (await db.query<{ acked_by: string | null }>("SELECT acked_by FROM vigil.alert_groups WHERE state->'commonLabels'->>'alertname' = 'QueueStuck'")).rows[0]?.acked_by;
    expect(await waitFor(async () => (await ackedBy()) === 'U0ALICE', { what: 'the ack in the group row' })).toBe(true);

    // A second Acknowledge (a stale message) says who was first.
    const stale = blockActionsBody({ actionId: 'alerts.ack#0', value: ackValue ?? '', userId: 'U0BOB', userName: 'bob', channelId: CRIT, messageTs: message.ts, responseUrl: slack.responseUrl() });
    await postSigned(`${baseUrl}/slack/events`, signBody(stale, { signingSecret: SIGNING_SECRET }));
    await waitFor(() => slack.responses.some((r) => JSON.stringify(r.body).includes('Already acknowledged by <@U0ALICE>')), { what: 'the second answer' });

    // Bob takes it over: Unacknowledge puts Acknowledge back, and Bob acknowledges.
    await click('alerts.unack', 'bob');
    await waitFor(() => /^Acknowledge$/m.test(shown(message)) && !shown(message).includes('Acknowledged by'), { what: 'the un-acknowledged message' });
    await click('alerts.ack', 'bob');
    await waitFor(() => shown(message).includes('Acknowledged by <@U0BOB>'), { what: "Bob's acknowledgement" });
    // The message may change a moment before the click's audit event lands (the writer batches).
    const auditRows = async () =>
      (
        await db.query<{ kind: string; actor_id: string; outcome: string }>(
          "SELECT kind, actor_id, outcome FROM vigil.audit_events WHERE kind IN ('alert.ack', 'alert.unack') AND subject = (SELECT group_id FROM vigil.alert_groups WHERE state->'commonLabels'->>'alertname' = 'QueueStuck') ORDER BY id",
        )
      ).rows;
    await waitFor(async () => (await auditRows()).length >= 4, { what: 'the four click audit events' });
    expect(await auditRows()).toEqual([
      { kind: 'alert.ack', actor_id: 'U0ALICE', outcome: 'acked' },
      { kind: 'alert.ack', actor_id: 'U0BOB', outcome: 'already_acked' },
      { kind: 'alert.unack', actor_id: 'U0BOB', outcome: 'unacked' },
      { kind: 'alert.ack', actor_id: 'U0BOB', outcome: 'acked' },
    ]);

    // /alerts says who, as a mention.
    const listed = await postSigned(`${baseUrl}/slack/events`, signedSlashCommand({ command: '/alerts', text: 'critical' }, { signingSecret: SIGNING_SECRET }));
    expect(JSON.stringify(listed.json)).toContain('QueueStuck: acknowledged by <@U0BOB>.');

    // After the group resolves a click cannot reopen it.
    await postAlert(notification([{ name: 'QueueStuck', instance: 'w-1', status: 'resolved' }]));
    await settled('the resolve', () => shown(message).includes('RESOLVED'));
    const late = blockActionsBody({ actionId: 'alerts.ack#0', value: ackValue ?? '', userId: 'U0CAROL', userName: 'carol', channelId: CRIT, messageTs: message.ts, responseUrl: slack.responseUrl() });
    await postSigned(`${baseUrl}/slack/events`, signBody(late, { signingSecret: SIGNING_SECRET }));
    await waitFor(() => slack.responses.some((r) => JSON.stringify(r.body).includes('already resolved')), { what: 'the late click answer' });
    expect(shown(message)).toContain('RESOLVED');
    expect(shown(message)).not.toContain('U0CAROL');

    // Firing again within its cooldown (a flap): the acknowledgement is gone, on-call is told.
    await postAlert(notification([{ name: 'QueueStuck', instance: 'w-1' }]));
    await settled('the flap', () => shown(message).includes('Flapped 1×'));
    expect(shown(message)).toMatch(/^Acknowledge$/m);
    expect(shown(message)).not.toContain('Acknowledged by');
    await waitFor(() => slack.replies(CRIT, message.ts).some((r) => r.text.includes('Firing again') && r.text.includes('acknowledgement is cleared')), { what: 'the flap reply' });
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

describe('escalation', () => {
  it('mentions on-call in the thread and copies the message to the escalation channel, unless acknowledged', async () => {
    const ESC = 'C0ESCALATE';
    const { baseUrl } = await startBot({ ...alertsYaml, channels: { critical: 'C0ESCCRIT', default: OTHER }, escalation: { channel: ESC, afterMinutes: 0.05, mention: 'S0ESCAL' } });
    await postAlert(notification([{ name: 'NobodyLooks', instance: 'n-1' }]));
    await postAlert(notification([{ name: 'SomeoneLooks', instance: 's-1' }]));
    await settled('both posted', () => ['NobodyLooks', 'SomeoneLooks'].every((n) => top('C0ESCCRIT').some((m) => shown(m).includes(n))));
    const looked = top('C0ESCCRIT').find((m) => shown(m).includes('SomeoneLooks')) as StoredMessage;
    const ack = (looked.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string }> }>).flatMap((b) => b.elements ?? []).find((e) => e.action_id?.startsWith('alerts.ack#'));
    await postSigned(
      `${baseUrl}/slack/events`,
      signBody(blockActionsBody({ actionId: ack?.action_id ?? '', value: ack?.value ?? '', userId: 'U0DANA', userName: 'dana', channelId: 'C0ESCCRIT', messageTs: looked.ts, responseUrl: slack.responseUrl() }), { signingSecret: SIGNING_SECRET }),
    );
    await waitFor(() => shown(looked).includes('Acknowledged by <@U0DANA>'), { what: 'the ack' });

    const ignored = top('C0ESCCRIT').find((m) => shown(m).includes('NobodyLooks')) as StoredMessage;
    // Other tests' critical groups (still firing in this database) escalate too: look at ours.
    const copies = (name: string) => top(ESC).filter((m) => shown(m).includes(name));
    await waitFor(() => copies('NobodyLooks').length > 0, { timeoutMs: 15_000, what: 'the escalation copy' });
    expect(copies('NobodyLooks')[0]?.text).toContain('<!subteam^S0ESCAL>');
    expect(shown(copies('NobodyLooks')[0])).toContain('Escalated: not acknowledged after');
    await waitFor(() => slack.replies('C0ESCCRIT', ignored.ts).some((r) => r.text.includes('<!subteam^S0ESCAL>') && r.text.includes(`<#${ESC}>`)), { what: 'the escalation reply' });
    await waitFor(() => shown(ignored).includes('Escalated at'), { what: 'the escalated note' });
    // Another tick later: still one copy, and the acknowledged group was never escalated.
    await new Promise((r) => setTimeout(r, 5500));
    expect(copies('NobodyLooks')).toHaveLength(1);
    expect(copies('SomeoneLooks')).toEqual([]);
    expect(slack.replies('C0ESCCRIT', looked.ts)).toEqual([]);
  }, 30_000);
});

describe('escalation in a storm', () => {
  it('escalates the groups counted in a storm summary with one message and one mention, not one each', async () => {
    const STORMCH = 'C0ESCSTORM';
    const ESC = 'C0ESCSTORMCOPY';
    await startBot({ ...alertsYaml, channels: { critical: STORMCH, default: OTHER }, storm: { perMinute: 3, summaryEverySeconds: 5 }, escalation: { channel: ESC, afterMinutes: 0.05, mention: 'S0ESCAL' } });
    const names = Array.from({ length: 7 }, (_, i) => `Torrent${i}`);
    for (const name of names) await postAlert(notification([{ name, instance: 'x' }]));
    await settled('three posts', () => top(STORMCH).filter((m) => !shown(m).includes('Alert storm')).length === 3);
    const own = top(STORMCH).filter((m) => !shown(m).includes('Alert storm'));
    await waitFor(() => top(ESC).length >= 4, { timeoutMs: 15_000, what: 'the escalations' });
    await new Promise((r) => setTimeout(r, 5500)); // one more housekeeping tick: nothing more
    const mentions = top(ESC).filter((m) => m.text.includes('<!subteam^S0ESCAL>'));
    expect(mentions).toHaveLength(4);
    const stormEscalations = top(ESC).filter((m) => m.text.includes('counted in the alert storm'));
    expect(stormEscalations).toHaveLength(1);
    expect(stormEscalations[0]?.text).toContain(`⏰ Escalated: 4 alert group(s) counted in the alert storm in <#${STORMCH}>`);
    // The groups with messages of their own are escalated one by one, as outside a storm.
    expect(top(ESC).filter((m) => own.some((o) => names.some((n) => shown(o).includes(n) && shown(m).includes(n))))).toHaveLength(3);
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM vigil.alert_groups WHERE channel = $1 AND escalated_at IS NULL AND status = 'firing'", [STORMCH]);
    expect(rows[0]?.n).toBe(0);
  }, 40_000);
});

describe("dead-man's switch", () => {
  it('raises a critical alert when the Watchdog goes quiet and resolves it when it is back', async () => {
    const DEAD = 'C0DEADMAN';
    // A 6 s window, longer than the 5 s between checks (a window under that could never look fresh).
    await startBot({ ...alertsYaml, channels: { critical: DEAD, default: OTHER }, deadman: { alertname: 'Watchdog', windowMinutes: 0.1 } });
    const watchdog = notification([{ name: 'Watchdog', instance: 'am', severity: 'none' }]);
    const beat = await postAlert(watchdog);
    expect(beat).toEqual({ status: 200, json: { status: 'heartbeat' } });
    await waitFor(() => top(DEAD).some((m) => shown(m).includes('DeadMansSwitch')), { timeoutMs: 15_000, what: 'the dead-man alert' });
    const alarm = top(DEAD).find((m) => shown(m).includes('DeadMansSwitch')) as StoredMessage;
    expect(shown(alarm)).toContain('No Watchdog alert from Alertmanager');
    expect(slack.messages().some((m) => shown(m).includes('🔥 NONE · Watchdog'))).toBe(false);

    await postAlert(watchdog);
    await waitFor(() => shown(alarm).includes('RESOLVED'), { timeoutMs: 15_000, what: 'the dead-man alert resolving' }).catch(async (err: unknown) => {
      const { rows } = await db.query("SELECT id, source, processed_at, attempts, last_error, payload->>'status' AS status FROM vigil.alert_notifications ORDER BY id DESC LIMIT 5");
      throw new Error(`${String(err)} ${JSON.stringify(rows)}`);
    });
    expect(top(DEAD).filter((m) => shown(m).includes('DeadMansSwitch'))).toHaveLength(1);
  }, 30_000);
});

describe('storm mode', () => {
  it('counts groups past the per-minute limit in one summary per channel, keeping every alert visible', async () => {
    const STORMY = 'C0STORMY';
    const running = await startBot({ ...alertsYaml, channels: { warning: STORMY, default: OTHER }, storm: { perMinute: 3, summaryEverySeconds: 5 } });
    const names = Array.from({ length: 9 }, (_, i) => `Gust${i}`);
    for (const name of names) await postAlert(notification([{ name, instance: 'x', severity: 'warning' }]));
    await settled('three posts and a summary', () => top(STORMY).length === 4 && top(STORMY).some((m) => shown(m).includes('Alert storm'))).catch((err: unknown) => { throw new Error(`${String(err)}: ${JSON.stringify(top(STORMY).map((m) => shown(m).slice(0, 80)))}`); });
    const summary = top(STORMY).find((m) => shown(m).includes('Alert storm')) as StoredMessage;
    const own = top(STORMY).filter((m) => m !== summary);
    expect(own).toHaveLength(3);
    // Every alert is visible: in a message of its own or in the summary.
    await waitFor(() => names.every((n) => own.some((m) => shown(m).includes(`${n}\n`) || shown(m).includes(`${n} `)) || shown(summary).includes(n)), {
      timeoutMs: 12_000,
      what: `every gust visible (summary: ${shown(summary)})`,
    });

    // Resolving a storm group changes the summary (at most every 5 s), not a message of its own.
    const inSummary = names.filter((n) => !own.some((m) => shown(m).includes(n)));
    const updatesBefore = summary.updates;
    await postAlert(notification([{ name: inSummary[0] as string, instance: 'x', severity: 'warning', status: 'resolved' }]));
    await waitFor(() => summary.updates > updatesBefore, { timeoutMs: 12_000, what: 'the summary update' });
    expect(top(STORMY)).toHaveLength(4);

    // A minute without new groups ends the storm (the clock is moved rather than waited for).
    const { state, outbox } = running.vigil.container.infra;
    if (!state.pool || !outbox) throw new Error('no state or outbox');
    await refreshStorms(state.pool, outbox, { perMinute: 3, summaryEverySeconds: 5 }, Date.now() + 61_000);
    await waitFor(() => shown(summary).includes('Alert storm over'), { timeoutMs: 12_000, what: 'the storm ending' });
    expect(slack.violations).toEqual([]);
  }, 40_000);

  it('a storm left open when Vigil stops does not swallow the first alert after it starts again', async () => {
    const GUSTY = 'C0STORMRESTART';
    const stormy = { ...alertsYaml, channels: { critical: GUSTY, default: OTHER }, storm: { perMinute: 3, summaryEverySeconds: 5 } };
    await startBot(stormy);
    const names = Array.from({ length: 6 }, (_, i) => `Squall${i}`);
    for (const name of names) await postAlert(notification([{ name, instance: 'x' }]));
    const stormOpen = async () => (await db.query('SELECT 1 FROM vigil.alert_storms WHERE channel = $1 AND ended_at IS NULL', [GUSTY])).rows.length === 1;
    await settled('three posts', () => top(GUSTY).length >= 3);
    await waitFor(stormOpen, { what: 'the storm started' });
    await stopBot();
    // 65 s pass while Vigil is stopped (moved rather than waited for): the storm's row stays open.
    await db.query("UPDATE vigil.alert_storms SET started_at = started_at - interval '65 seconds' WHERE channel = $1", [GUSTY]);
    await db.query("UPDATE vigil.alert_groups SET arrived_at = arrived_at - interval '65 seconds', fired_at = fired_at - interval '65 seconds' WHERE channel = $1", [GUSTY]);
    expect(await stormOpen()).toBe(true);

    await startBot(stormy);
    const posted = Date.now();
    await postAlert(notification([{ name: 'FirstAfterRestart', instance: 'y' }]));
    await waitFor(() => top(GUSTY).some((m) => shown(m).includes('FirstAfterRestart')), { timeoutMs: 5000, what: 'a message of its own for the first alert after the restart' });
    expect(Date.now() - posted).toBeLessThan(5000);
    const groupRow = async () => (await db.query<{ storm_id: string | null }>("SELECT storm_id FROM vigil.alert_groups WHERE state->'commonLabels'->>'alertname' = 'FirstAfterRestart'")).rows;
    // Its row commits with its outbox row; the post can show a moment before this read sees it.
    await waitFor(async () => (await groupRow()).length === 1, { what: "the group's row" });
    expect((await groupRow())[0]?.storm_id).toBeNull();
  }, 40_000);
});

describe("Vigil's own rules", () => {
  it('fires when a real BullMQ queue fills past its threshold and resolves when it drains', async () => {
    const RULES = 'C0RULES';
    const queue = new Queue('rule-emails', { connection: { url: TEST_REDIS_URL }, prefix: inspectedPrefix });
    try {
      await startBot({
        ...alertsYaml,
        channels: { warning: RULES, default: OTHER },
        evaluate: '* * * * * *',
        rules: [{ name: 'EmailBacklog', severity: 'warning', probe: 'queue', target: 'rule-emails', measure: 'waiting', above: 5, runbook_url: 'https://runbooks.example.com/emails' }],
      });
      await queue.addBulk(Array.from({ length: 8 }, (_, i) => ({ name: 'send', data: { i } })));
      await waitFor(() => top(RULES).some((m) => shown(m).includes('EmailBacklog')), { timeoutMs: 10_000, what: 'the rule firing' });
      const message = top(RULES).find((m) => shown(m).includes('EmailBacklog')) as StoredMessage;
      // As Slack receives it: mrkdwn with `>` escaped.
      expect(shown(message)).toContain('queue rule-emails: waiting 8 &gt; 5');
      expect(JSON.stringify(message.blocks)).toContain('https://runbooks.example.com/emails');

      await queue.drain();
      await waitFor(() => shown(message).includes('RESOLVED'), { timeoutMs: 10_000, what: 'the rule resolving' });
      expect(top(RULES).filter((m) => shown(m).includes('EmailBacklog'))).toHaveLength(1);
    } finally {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
  }, 30_000);
});

describe("resolving Vigil's own rule alert by hand", () => {
  it('offers Resolve (and no Silence without a catalog action for it); a resolve is audited, and a condition that still holds fires again', async () => {
    const RULES = 'C0RULESHAND';
    const queue = new Queue('rule-stuck', { connection: { url: TEST_REDIS_URL }, prefix: inspectedPrefix });
    try {
      const { baseUrl } = await startBot({
        ...alertsYaml,
        channels: { warning: RULES, default: OTHER },
        evaluate: '* * * * * *',
        rules: [{ name: 'StuckBacklog', severity: 'warning', probe: 'queue', target: 'rule-stuck', measure: 'waiting', above: 5 }],
      });
      await queue.addBulk(Array.from({ length: 8 }, (_, i) => ({ name: 'send', data: { i } })));
      const messages = () => top(RULES).filter((m) => shown(m).includes('StuckBacklog'));
      await waitFor(() => messages().length === 1, { timeoutMs: 10_000, what: 'the rule firing' });
      const message = messages()[0] as StoredMessage;
      expect(shown(message)).toMatch(/^Resolve$/m);
      expect(shown(message)).not.toMatch(/^Silence/m);
      const button = (message.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string }> }>)
        .flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []))
        .find((e) => e.action_id?.startsWith('alerts.resolve#'));
      const body = blockActionsBody({ actionId: button?.action_id ?? '', value: button?.value ?? '', userId: 'U0ERIN', userName: 'erin', channelId: RULES, messageTs: message.ts, responseUrl: slack.responseUrl() });
      expect((await postSigned(`${baseUrl}/slack/events`, signBody(body, { signingSecret: SIGNING_SECRET }))).status).toBe(200);
      await waitFor(() => shown(message).includes('RESOLVED') && shown(message).includes('Resolved by hand by <@U0ERIN>'), { timeoutMs: 10_000, what: 'the resolve by hand' });
      const audit = await db.query<{ actor_id: string; outcome: string }>("SELECT actor_id, outcome FROM vigil.audit_events WHERE kind = 'alert.resolve'");
      expect(audit.rows).toEqual([{ actor_id: 'U0ERIN', outcome: 'resolving' }]);
      // Still 8 waiting: the rule starts afresh and fires again (on the same message within the
      // 1 s cooldown, as a flap; on a new one after it).
      await waitFor(() => shown(messages().at(-1)).includes('🔥 WARNING · StuckBacklog'), { timeoutMs: 10_000, what: 'the rule firing again' });
    } finally {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
  }, 30_000);
});

describe("silencing Vigil's own rule alert", () => {
  it('keeps the silence in Vigil: the message shows it, no Alertmanager is needed, and Unsilence ends it', async () => {
    const RULES = 'C0RULESSIL';
    const queue = new Queue('rule-silenced', { connection: { url: TEST_REDIS_URL }, prefix: inspectedPrefix });
    const catalog = {
      'silence-alert': { title: 'Silence an alert', risk: 'low', builtin: 'alertmanager.silence', approval: 'none' },
      unsilence: { title: 'Expire a silence', risk: 'low', builtin: 'alertmanager.expireSilence', approval: 'none' },
    };
    try {
      const { baseUrl } = await startBot(
        {
          ...alertsYaml,
          channels: { warning: RULES, default: OTHER },
          mentions: { warning: 'S0RULES' },
          evaluate: '* * * * * *',
          rules: [{ name: 'SilencedBacklog', severity: 'warning', probe: 'queue', target: 'rule-silenced', measure: 'waiting', above: 5 }],
        },
        { actions: { approvalChannel: 'C0RULEAPPROVE', catalog } },
      );
      await queue.addBulk(Array.from({ length: 8 }, (_, i) => ({ name: 'send', data: { i } })));
      await waitFor(() => top(RULES).some((m) => shown(m).includes('SilencedBacklog')), { timeoutMs: 10_000, what: 'the rule firing' });
      const message = top(RULES).find((m) => shown(m).includes('SilencedBacklog')) as StoredMessage;
      const press = async (label: string) => {
        const button = (message.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string; text?: { text?: string } }> }>)
          .flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []))
          .find((e) => e.text?.text === label);
        if (!button?.action_id || !button.value) throw new Error(`no ${label} button on ${shown(message)}`);
        const body = blockActionsBody({ actionId: button.action_id, value: button.value, userId: 'U0FAY', userName: 'fay', channelId: RULES, messageTs: message.ts, responseUrl: slack.responseUrl() });
        return postSigned(`${baseUrl}/slack/events`, signBody(body, { signingSecret: SIGNING_SECRET }));
      };
      const opened = slack.openedViews.length;
      expect((await press('Silence 4h')).status).toBe(200);
      await waitFor(() => slack.openedViews.length > opened, { what: 'the silence form' });
      const view = slack.openedViews[opened]?.view as { callback_id: string; private_metadata: string; blocks: Array<{ text?: { text: string } }> };
      expect(view.blocks[0]?.text?.text).toContain('in Vigil (its own rule alert) where alertname="SilencedBacklog"');
      const body = viewSubmissionBody({ callbackId: view.callback_id, values: { reason: 'backlog expected during the import' }, choices: { variant: 'group' }, userId: 'U0FAY', privateMetadata: view.private_metadata });
      expect((await postSigned(`${baseUrl}/slack/events`, signBody(body, { signingSecret: SIGNING_SECRET }))).status).toBe(200);
      // By the name Slack gave the form's submitter (the stand-in's `steve`), as Alertmanager's createdBy would be.
      await waitFor(() => shown(message).includes('Silenced in Vigil by steve'), { timeoutMs: 10_000, what: 'the rule message silenced' });
      expect(shown(message)).toContain('“backlog expected during the import”');
      const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM vigil.alert_silences WHERE expired_at IS NULL AND matchers @> '[[\"alertname\", \"SilencedBacklog\"]]'");
      expect(rows[0]?.n).toBe(1);

      expect((await press('Unsilence')).status).toBe(200);
      await waitFor(() => !shown(message).includes('Silenced in Vigil'), { timeoutMs: 10_000, what: 'the silence ended' });
      await waitFor(() => slack.replies(RULES, message.ts).some((r) => r.text.includes('<!subteam^S0RULES>') && r.text.includes('silence ended')), { timeoutMs: 10_000, what: 'the thread reply' });
    } finally {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
  }, 40_000);
});

describe('an instance without Slack beside the bot', () => {
  it('leaves the alert work to the bot: a rule alert fires and resolves on Slack however the ticks fall', async () => {
    const RULES = 'C0RULESBESIDE';
    const queue = new Queue('rule-beside', { connection: { url: TEST_REDIS_URL }, prefix: inspectedPrefix });
    const alerts = { ...alertsYaml, channels: { warning: RULES, default: OTHER }, evaluate: '* * * * * *', rules: [{ name: 'BesideBacklog', severity: 'warning', probe: 'queue', target: 'rule-beside', measure: 'waiting', above: 5 }] };
    // Started first, so it is there for every tick the bot is.
    const shell = await startAlertsBot({ slack, databaseUrl: world.testDb.url, workDir, queuePrefix, alerts, bullmq: { prefix: inspectedPrefix }, withoutSlack: true });
    try {
      expect(shell.vigil.container.infra.outbox).toBeNull();
      await startBot(alerts);
      const messages = () => top(RULES).filter((m) => shown(m).includes('BesideBacklog'));
      for (let round = 0; round < 3; round++) {
        await queue.addBulk(Array.from({ length: 8 }, (_, i) => ({ name: 'send', data: { i } })));
        await waitFor(() => messages().length === round + 1, { timeoutMs: 10_000, what: `the rule firing on Slack (round ${round + 1})` });
        await queue.drain();
        await waitFor(() => shown(messages()[round]).includes('RESOLVED'), { timeoutMs: 10_000, what: `the rule resolving on Slack (round ${round + 1})` });
        await new Promise((r) => setTimeout(r, 1100)); // past the 1 s cooldown: the next firing is a new message
      }
    } finally {
      await shell.stop();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
  }, 60_000);
});
