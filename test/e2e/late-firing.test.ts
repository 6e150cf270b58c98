/**
 * Alert time against arrival order, with a real Alertmanager: its webhooks go to a recorder and
 * the test hands them to the real bot in the order a fault would (a late HA peer's copy after the
 * resolve). A late copy of the firing changes nothing, because Alertmanager has the alert
 * resolved; a genuine re-fire whose start Prometheus restored (the same startsAt again) re-opens
 * the group, because Alertmanager has it active.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { startAlertmanager, startWebhookReceiver, type Alertmanager, type ReceivedWebhook, type WebhookReceiver } from '../support/alertmanager.ts';
import { ALERT_WEBHOOK_TOKEN, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { blockText, type SlackApiServer, type StoredMessage } from '../support/slack-api-server.ts';
import { waitFor } from '../support/wait.ts';

const CRIT = 'C0LATECRIT';
const LABELS = { alertname: 'LateCopy', severity: 'critical', instance: 'api-1' };

let world: BotWorld;
let slack: SlackApiServer;
let db: pg.Pool;
let bot: AlertsBot;
let am: Alertmanager;
let recorder: WebhookReceiver;

interface Webhook {
  status: string;
  alerts: { status: string; startsAt: string; endsAt: string }[];
}
const bodyOf = (r: ReceivedWebhook) => r.body as Webhook;

/** Hand one recorded webhook to the bot, as Alertmanager would have. */
async function relay(r: ReceivedWebhook): Promise<number> {
  const res = await fetch(`${bot.baseUrl}/alerts/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_WEBHOOK_TOKEN}` },
    body: r.raw,
  });
  expect(res.status).toBe(200);
  const { rows } = await db.query<{ id: string }>('SELECT max(id)::text AS id FROM vigil.alert_notifications');
  return Number(rows[0]?.id);
}

async function settled(id: number): Promise<{ processed: boolean; note: string | null }> {
  const { rows } = await db.query<{ processed: boolean; note: string | null }>(
    'SELECT processed_at IS NOT NULL AS processed, last_error AS note FROM vigil.alert_notifications WHERE id = $1',
    [id],
  );
  return rows[0] ?? { processed: false, note: null };
}

const shown = (m: StoredMessage | undefined) => (m ? blockText(m.blocks) : '');
const messages = () => slack.topLevel(CRIT).filter((m) => shown(m).includes('LateCopy'));

beforeAll(async () => {
  world = await createBotWorld('late_firing');
  ({ slack, db } = world);
  recorder = await startWebhookReceiver();
  am = await startAlertmanager({ webhookUrl: recorder.url, groupBy: ['alertname'] });
  bot = await startAlertsBot({
    slack,
    databaseUrl: world.testDb.url,
    workDir: world.workDir,
    queuePrefix: world.queuePrefix,
    env: { ALERTMANAGER_URL: am.url },
    // A re-fire within a minute is a flap on the same message.
    alerts: { channels: { critical: CRIT, default: CRIT }, cooldownSeconds: { default: 60 } },
  });
});

afterAll(async () => {
  await am?.stop();
  await recorder?.close();
  await bot?.stop();
  await world?.close();
});

describe('a firing that arrives after the resolve', () => {
  it('changes nothing when it is a late copy, and re-opens the group when Alertmanager has it firing again', async () => {
    await am.pushAlerts([{ labels: LABELS, annotations: { summary: 'API answers 5xx' } }]);
    const firing = await recorder.waitFor((r) => bodyOf(r).status === 'firing', { what: "Alertmanager's firing notification" });
    await relay(firing);
    await waitFor(() => messages().length === 1, { what: 'the group posted' });
    const message = messages()[0] as StoredMessage;

    await am.resolveAlerts([LABELS]);
    const resolved = await recorder.waitFor((r) => bodyOf(r).status === 'resolved', { timeoutMs: 15_000, what: "Alertmanager's resolved notification" });
    await relay(resolved);
    await waitFor(() => shown(message).includes('RESOLVED'), { what: 'the message turning resolved' });
    const updatesResolved = message.updates;

    // The late copy: the firing again, after the resolve (an HA peer that missed it, a proxy's retry).
    const lateId = await relay(firing);
    await waitFor(async () => (await settled(lateId)).processed, { what: 'the late copy settled' });
    expect((await settled(lateId)).note).toMatch(/^stale: a late copy/);
    expect(shown(message)).toContain('RESOLVED');
    expect(message.updates).toBe(updatesResolved);
    expect(slack.replies(CRIT, message.ts).filter((r) => r.text.includes('Firing again'))).toEqual([]);
    expect(messages()).toHaveLength(1);

    // Prometheus restarted and restored the alert's start: the same startsAt, and it is active again.
    const startsAt = bodyOf(firing).alerts[0]?.startsAt ?? '';
    await am.pushAlerts([{ labels: LABELS, annotations: { summary: 'API answers 5xx' }, startsAt, endsAt: new Date(Date.now() + 600_000).toISOString() }]);
    const refired = await recorder.waitFor((r) => r.at > firing.at && bodyOf(r).status === 'firing', { timeoutMs: 15_000, what: 'the re-fire notification' });
    expect(bodyOf(refired).alerts[0]?.startsAt).toBe(startsAt);
    const refireId = await relay(refired);
    await waitFor(async () => (await settled(refireId)).processed, { what: 'the re-fire applied' });
    expect((await settled(refireId)).note).toBeNull();
    await waitFor(() => !shown(message).includes('RESOLVED'), { what: 'the message firing again' });
    const { rows } = await db.query<{ flaps: number; status: string }>("SELECT flaps, status FROM vigil.alert_groups WHERE group_key LIKE '%LateCopy%'");
    expect(rows).toEqual([{ flaps: 1, status: 'firing' }]);
    expect(slack.violations).toEqual([]);
  }, 60_000);
});
