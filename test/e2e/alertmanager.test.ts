/**
 * A real Prometheus Alertmanager (Debian's prometheus-alertmanager) posting to the real bot:
 * alerts pushed through Alertmanager's API land in the right channels as one message per group,
 * resolving updates that message, and a bot restarted in between still updates the same one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { freePort } from '../../src/embedded/free-port.ts';
import { startAlertmanager, type Alertmanager } from '../support/alertmanager.ts';
import { ALERT_WEBHOOK_TOKEN, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { blockText, startSlackApiServer, type SlackApiServer, type StoredMessage } from '../support/slack-api-server.ts';
import { waitFor } from '../support/wait.ts';

const CRIT = 'C0AMCRIT';
const WARN = 'C0AMWARN';
const OTHER = 'C0AMOTHER';

let slack: SlackApiServer;
let testDb: TestDatabase;
let workDir: string;
let queuePrefix: string;
let port: number;
let bot: AlertsBot | null = null;
let am: Alertmanager;

const startBot = async () => {
  bot = await startAlertsBot({
    slack,
    databaseUrl: testDb.url,
    workDir,
    queuePrefix,
    port,
    alerts: { channels: { critical: CRIT, warning: WARN, default: OTHER }, cooldownSeconds: { default: 1 } },
  });
};
const shown = (m: StoredMessage | undefined) => (m ? blockText(m.blocks) : '');
const messagesAbout = (channel: string, name: string) => slack.topLevel(channel).filter((m) => shown(m).includes(name));

beforeAll(async () => {
  slack = await startSlackApiServer({ perChannelPerSecond: 25, burst: 5 });
  testDb = await createTestDatabase('am_e2e');
  workDir = await mkdtemp(join(tmpdir(), 'vigil-am-'));
  queuePrefix = uniqueName('am');
  port = await freePort();
  await startBot();
  am = await startAlertmanager({
    webhookUrl: `http://127.0.0.1:${port}/alerts/alertmanager`,
    bearerToken: ALERT_WEBHOOK_TOKEN,
    groupBy: ['alertname'],
  });
});

afterAll(async () => {
  await am?.stop();
  await bot?.stop();
  await slack?.close();
  await testDb?.drop();
  await rm(workDir, { recursive: true, force: true });
  const redis = new Redis(TEST_REDIS_URL);
  await deleteKeysUnder(redis, queuePrefix);
  redis.disconnect();
});

describe('a real Alertmanager', () => {
  it('reaches the right channels, updates the same message across a bot restart, and resolves it', async () => {
    const crit = ['api-1', 'api-2'].map((instance) => ({
      labels: { alertname: 'AmApiDown', severity: 'critical', instance },
      annotations: { summary: 'API is down', runbook_url: 'https://runbooks.example.com/api-down' },
    }));
    const warn = { labels: { alertname: 'AmDiskFilling', severity: 'warning', instance: 'db-1' }, annotations: { summary: 'Disk 85% full' } };
    await am.pushAlerts([...crit, warn]);

    await waitFor(() => messagesAbout(CRIT, 'AmApiDown').length === 1 && messagesAbout(WARN, 'AmDiskFilling').length === 1, {
      timeoutMs: 15_000,
      what: `both groups posted (Alertmanager log: ${am.logs().slice(-500)})`,
    });
    const message = messagesAbout(CRIT, 'AmApiDown')[0] as StoredMessage;
    expect(shown(message)).toContain('instance=api-1');
    expect(shown(message)).toContain('instance=api-2');
    expect(messagesAbout(OTHER, 'Am')).toEqual([]);

    // The bot restarts; Alertmanager keeps posting to the same URL.
    await bot?.stop();
    await startBot();

    await am.resolveAlerts([crit[0]?.labels ?? {}]);
    await waitFor(() => slack.replies(CRIT, message.ts).some((r) => r.text.includes('Resolved: instance=api-1')), { timeoutMs: 15_000, what: 'the thread reply for api-1' });
    await am.resolveAlerts([crit[1]?.labels ?? {}]);
    await waitFor(() => shown(message).includes('RESOLVED'), { timeoutMs: 15_000, what: 'the original message turning resolved' });

    expect(messagesAbout(CRIT, 'AmApiDown')).toHaveLength(1);
    expect(message.updates).toBeGreaterThanOrEqual(2);
    expect(shown(messagesAbout(WARN, 'AmDiskFilling')[0])).not.toContain('RESOLVED');
    expect(slack.violations).toEqual([]);
  }, 60_000);
});
