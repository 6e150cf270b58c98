/**
 * A replica killed while Slack holds its post: Slack has the message, the replica never heard
 * back. Another replica takes the job back once its lock lapses (BullMQ's stalled check, which
 * counts no attempt) and must look the message up by its key rather than post it again; the
 * resolve then updates that one message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_WEBHOOK_TOKEN, alertsBotEnv } from '../support/alerts-bot.ts';
import { oneAlertWebhook } from '../support/alertmanager-webhook.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { blockText } from '../support/slack-api-server.ts';
import { startVigilProcess, type VigilProcess } from '../support/vigil-process.ts';
import { waitFor } from '../support/wait.ts';

const ALERTS = 'C0STALLEDALERTS';
let world: BotWorld;
const bots: VigilProcess[] = [];

async function startBot(): Promise<VigilProcess> {
  const bot = await startVigilProcess({
    workDir: world.workDir,
    config: {
      alerts: { channels: { default: ALERTS } },
      state: { queuePrefix: world.queuePrefix },
      bullmq: { prefix: `${world.queuePrefix}-inspected` },
      slack: { outbox: { perSecond: 20, burst: 4 } },
    },
    env: alertsBotEnv({ slack: world.slack, databaseUrl: world.testDb.url }),
  });
  bots.push(bot);
  return bot;
}

async function notify(bot: VigilProcess, status: 'firing' | 'resolved', startsAt: string): Promise<void> {
  const res = await fetch(`${bot.baseUrl}/alerts/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_WEBHOOK_TOKEN}` },
    body: JSON.stringify(oneAlertWebhook('StalledPost', status, { startsAt, summary: 'StalledPost is down' })),
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  world = await createBotWorld('stalled');
}, 60_000);

afterAll(async () => {
  for (const bot of bots) await bot.stop();
  await world?.close();
});

describe('a replica killed while Slack holds its post', () => {
  it('another replica takes the job back, finds the message by its key and updates it, never posting it twice', { timeout: 120_000 }, async () => {
    const first = await startBot();
    world.slack.inject({ method: 'chat.postMessage', acceptedThenHang: true, count: 1 });
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    await notify(first, 'firing', startsAt);
    // Slack has it; the replica waits for an answer that never comes, and is killed.
    await waitFor(() => world.slack.topLevel(ALERTS).length === 1, { timeoutMs: 15_000, what: 'the post Slack accepted' });
    process.kill(first.pid, 'SIGKILL');

    const second = await startBot();
    await notify(second, 'resolved', startsAt);
    const message = world.slack.topLevel(ALERTS)[0];
    await waitFor(() => blockText(message?.blocks).includes('RESOLVED'), { timeoutMs: 60_000, intervalMs: 500, what: `the one message resolved (channel holds ${world.slack.topLevel(ALERTS).length})` });
    expect(world.slack.topLevel(ALERTS)).toHaveLength(1);
    expect(world.slack.violations).toEqual([]);
  });
});
