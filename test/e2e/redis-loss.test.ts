/**
 * The incident from issue 18, end to end: the bot's Redis restarts without persistence while alert
 * messages wait to be posted (Slack failing meanwhile), so every job is lost. Postgres recorded
 * each message: every group is shown once, and the later notifications for those groups (their
 * resolution) update their messages instead of failing forever. Redis here is a redis-server of
 * this test's own, killed and started again on the same port with nothing saved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_WEBHOOK_TOKEN, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { oneAlertWebhook } from '../support/alertmanager-webhook.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { killableRedis, type KillableRedis } from '../support/killable-redis.ts';
import { blockText } from '../support/slack-api-server.ts';
import { sleep, waitFor } from '../support/wait.ts';

const CHANNEL = 'C0LOSSALERTS';
const GROUPS = 40;

let world: BotWorld;
let bot: AlertsBot;
let redis: KillableRedis;

async function notify(name: string, status: 'firing' | 'resolved'): Promise<void> {
  const res = await fetch(`${bot.baseUrl}/alerts/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_WEBHOOK_TOKEN}` },
    body: JSON.stringify(oneAlertWebhook(name, status)),
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  world = await createBotWorld('redis_loss');
  redis = await killableRedis(world.workDir);
  await redis.start();
  bot = await startAlertsBot({
    slack: world.slack,
    databaseUrl: world.testDb.url,
    redisUrl: redis.url,
    workDir: world.workDir,
    queuePrefix: world.queuePrefix,
    // No storm summary: each group is to get its own message.
    alerts: { channels: { default: CHANNEL }, storm: { perMinute: 1000, summaryEverySeconds: 30 } },
  });
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await redis?.kill();
  await world?.close();
});

describe('Redis restarted without persistence while alert messages wait', () => {
  it('shows every group once, and their resolutions update the same messages', { timeout: 90_000 }, async () => {
    // Slack fails every post for a while: the messages wait in Redis, retrying.
    world.slack.inject({ status: 500, method: 'chat.postMessage', channel: CHANNEL, forMs: 60_000 });
    const names = Array.from({ length: GROUPS }, (_, i) => `RedisLoss${i}`);
    for (const name of names) await notify(name, 'firing');
    await waitFor(async () => Number((await world.db.query("SELECT count(*) AS n FROM vigil.alert_groups WHERE message_key IS NOT NULL")).rows[0]?.n) === GROUPS, {
      timeoutMs: 15_000,
      what: 'every group applied, its post handed to the outbox',
    });
    await sleep(500);
    expect(world.slack.topLevel(CHANNEL)).toHaveLength(0);

    // Redis dies and comes back empty; then Slack recovers.
    await redis.kill();
    await redis.start();
    world.slack.reset();

    // Posted once each, by the reconciler (rows older than 10 s, a tick every 10 s).
    await waitFor(() => world.slack.topLevel(CHANNEL).length === GROUPS, { timeoutMs: 45_000, what: `${GROUPS} alert messages after the restart` });
    const texts = world.slack.topLevel(CHANNEL).map((m) => blockText(m.blocks));
    for (const name of names) expect(texts.filter((t) => new RegExp(`${name}(?!\\d)`).test(t)), name).toHaveLength(1);

    // The later notifications of those groups update their messages.
    for (const name of names.slice(0, 5)) await notify(name, 'resolved');
    await waitFor(() => world.slack.topLevel(CHANNEL).filter((m) => /Resolved/i.test(blockText(m.blocks))).length === 5, { timeoutMs: 20_000, what: 'five messages updated as resolved' });
    const failed = await world.db.query("SELECT count(*)::int AS n FROM vigil.alert_notifications WHERE processed_at IS NULL");
    expect(failed.rows[0]).toEqual({ n: 0 });
    await sleep(500);
    expect(world.slack.topLevel(CHANNEL)).toHaveLength(GROUPS);
  });
});
