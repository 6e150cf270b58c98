/**
 * `/alerts test <severity>` end to end: the real bot (config, container, alerts feature, processor,
 * Slack outbox) against the machine's Postgres and Redis and the Slack stand-in. A signed slash
 * command's test alert appears in its severity's channel and is resolved by the bot itself; one
 * stored by `vigil alerts test …` (a real CLI process) is posted by the running bot.
 */
import { userInfo } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { stringify as toYaml } from 'yaml';
import { alertsFeature } from '../../src/features/alerts.ts';
import { features as defaultFeatures } from '../../src/features/index.ts';
import { ALERT_SIGNING_SECRET, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { REPO_ROOT, ensureBuilt, runNode } from '../support/run-process.ts';
import { blockText, type SlackApiServer, type StoredMessage } from '../support/slack-api-server.ts';
import { postSigned, signedSlashCommand } from '../support/slack-requests.ts';
import { waitFor } from '../support/wait.ts';

const CRIT = 'C0CRITICAL';
const WARN = 'C0WARNING';
const OTHER = 'C0DEFAULT';
const RESOLVE_AFTER_MS = 2000;
const alertsYaml = { channels: { critical: CRIT, warning: WARN, default: OTHER }, mentions: { critical: 'S0ONCALL' }, cooldownSeconds: { default: 1 } };

let world: BotWorld;
let slack: SlackApiServer;
let db: pg.Pool;
let bot: AlertsBot;

// The bot as it ships, but for a test alert resolving after 2 s instead of a minute.
const features = defaultFeatures.map((f) => (f === alertsFeature ? (infra: Parameters<typeof alertsFeature>[0]) => alertsFeature(infra, { testResolveAfterMs: RESOLVE_AFTER_MS }) : f));
const shown = (m: StoredMessage | undefined) => (m ? blockText(m.blocks) : '');
const testMessages = (channel: string) => slack.topLevel(channel).filter((m) => shown(m).includes('VigilTestAlert'));

async function slash(text: string, userName = 'alice') {
  return postSigned(`${bot.baseUrl}/slack/events`, signedSlashCommand({ command: '/alerts', text, user_name: userName }, { signingSecret: ALERT_SIGNING_SECRET }));
}

beforeAll(async () => {
  world = await createBotWorld('alerts_test_e2e');
  ({ slack, db } = world);
  bot = await startAlertsBot({ slack, databaseUrl: world.testDb.url, workDir: world.workDir, queuePrefix: world.queuePrefix, alerts: alertsYaml, features });
});

afterAll(async () => {
  await bot?.stop();
  await world?.close();
});

describe('/alerts test <severity>', () => {
  it('posts a marked test alert in the severity channel, answers privately where it went, and resolves the same message by itself', async () => {
    const res = await slash('test warning');
    expect(res.status).toBe(200);
    expect(res.json?.response_type).toBe('ephemeral');
    const answer = JSON.stringify(res.json);
    expect(answer).toContain(`Test warning alert sent to <#${WARN}>`);
    expect(answer).toContain('It resolves by itself in 2 seconds.');

    await waitFor(() => testMessages(WARN).length > 0, { timeoutMs: 10_000, what: 'the test alert in the warning channel' });
    const message = testMessages(WARN)[0] as StoredMessage;
    expect(shown(message)).toContain('WARNING · VigilTestAlert');
    expect(shown(message)).toContain('Test alert from alice: checks that warning alerts reach this channel. It resolves by itself in 2 seconds.');
    expect(shown(message)).toContain('vigil_test');
    expect(message.text).not.toContain('subteam');

    await waitFor(() => shown(message).includes('RESOLVED'), { timeoutMs: 10_000, what: 'the test alert resolved in place' });
    expect(message.updates).toBeGreaterThanOrEqual(1);
    expect(testMessages(WARN)).toHaveLength(1);
    expect(testMessages(CRIT)).toEqual([]);
    expect(slack.violations).toEqual([]);
  }, 30_000);

  it('refuses a severity Vigil does not know, naming those it knows, and stores nothing', async () => {
    const res = await slash('test sev1');
    expect(JSON.stringify(res.json)).toContain('Vigil knows no severity \\"sev1\\"; it knows critical, error, warning, info, business');
    const { rows } = await db.query<{ n: string }>("SELECT count(*) AS n FROM vigil.alert_notifications WHERE payload->'commonLabels'->>'severity' = 'sev1'");
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('works from the command line: `vigil alerts test critical` stores it and the running bot posts it, with its resolve due in a minute', async () => {
    ensureBuilt();
    const configPath = join(world.workDir, 'cli.yaml');
    await writeFile(configPath, toYaml({ alerts: alertsYaml, state: { queuePrefix: world.queuePrefix } }));
    const cli = await runNode([join(REPO_ROOT, 'src', 'bin', 'vigil.mjs'), 'alerts', 'test', 'critical'], { DATABASE_URL: world.testDb.url, VIGIL_CONFIG: configPath });
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`Test critical alert stored for #${CRIT}: the running Vigil bot posts it within a few seconds. It resolves by itself in 1 minute.`);

    await waitFor(() => testMessages(CRIT).length > 0, { timeoutMs: 10_000, what: "the CLI's test alert posted by the bot" });
    const message = testMessages(CRIT)[0] as StoredMessage;
    expect(shown(message)).toContain(`Test alert from ${userInfo().username}: checks that critical alerts reach this channel. It resolves by itself in 1 minute.`);
    // Critical pages as a real critical alert would: that is part of what it checks.
    expect(message.text.startsWith('<!subteam^S0ONCALL>')).toBe(true);
    const { rows } = await db.query<{ wait_s: number }>(
      `SELECT extract(epoch FROM next_attempt_at - now()) AS wait_s FROM vigil.alert_notifications
       WHERE processed_at IS NULL AND payload->>'status' = 'resolved' AND payload->'commonLabels'->>'severity' = 'critical'`,
    );
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]?.wait_s)).toBeGreaterThan(40);
    expect(Number(rows[0]?.wait_s)).toBeLessThanOrEqual(60);
  }, 40_000);
});
