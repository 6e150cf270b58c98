/**
 * Vigil reports pg_stat_statements, so it must not fill it: a benchmark-sized run of the real bot
 * (slash commands at two concurrencies, so audit batches of many sizes, plus alerts through the
 * intake, the processor and the outbox) adds at most a handful of entries once each path has run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_SIGNING_SECRET, ALERT_WEBHOOK_TOKEN, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { adminQuery } from '../support/pg.ts';
import { postSigned, signedSlashCommand } from '../support/slack-requests.ts';
import { waitFor } from '../support/wait.ts';

const COMMANDS = ['/health', '/queue', '/vigil help', '/slowqueries --limit 3', '/audit --limit 5'];
let world: BotWorld;
let bot: AlertsBot;

beforeAll(async () => {
  world = await createBotWorld('stmt_trace');
  await adminQuery('CREATE EXTENSION pg_stat_statements', world.testDb.name);
  bot = await startAlertsBot({ slack: world.slack, databaseUrl: world.testDb.url, workDir: world.workDir, queuePrefix: world.queuePrefix, alerts: { channels: { default: 'C0TRACE' }, storm: { perMinute: 100 } } });
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await world?.close();
});

/** Entries pg_stat_statements holds for the bot's database (every role's). */
async function entries(): Promise<Array<{ query: string }>> {
  const { rows } = await world.db.query<{ query: string }>(
    'SELECT query FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())',
  );
  return rows;
}

/** `count` signed commands, round robin over COMMANDS, `inFlight` at a time; every one must be acked. */
async function burst(count: number, inFlight: number): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const [command = '/health', ...rest] = (COMMANDS[next++ % COMMANDS.length] ?? '/health').split(' ');
      const res = await postSigned(`${bot.baseUrl}/slack/events`, signedSlashCommand({ command, text: rest.join(' ') }, { signingSecret: ALERT_SIGNING_SECRET }));
      expect(res.status).toBe(200);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

/** `count` firing alerts of distinct names through the Alertmanager intake, then until all are in Slack. */
async function alerts(tag: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const name = `Trace${tag}${i}`;
    const res = await fetch(`${bot.baseUrl}/alerts/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_WEBHOOK_TOKEN}` },
      body: JSON.stringify({
        receiver: 'vigil',
        status: 'firing',
        alerts: [{ status: 'firing', labels: { alertname: name, severity: 'warning', instance: 'i' }, annotations: {}, startsAt: new Date().toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: name }],
        groupLabels: { alertname: name },
        commonLabels: { alertname: name },
        commonAnnotations: {},
        externalURL: 'http://alertmanager.example.com:9093',
        version: '4',
        groupKey: `{}:{alertname="${name}"}`,
        truncatedAlerts: 0,
      }),
    });
    expect(res.status).toBe(200);
  }
  await waitFor(() => world.slack.messages('C0TRACE').filter((m) => JSON.stringify(m.blocks).includes(`Trace${tag}`)).length >= count, {
    timeoutMs: 20_000,
    what: `${count} alerts in Slack`,
  });
}

describe('pg_stat_statements after a benchmark-sized run', () => {
  it('gains at most a handful of entries however many commands run and however audit batches fall', async () => {
    // Warm-up: every path once, so the statements a run needs exist.
    await burst(25, 5);
    await alerts('warm', 3);
    await bot.vigil.container.flushAudit();
    const before = await entries();

    await burst(400, 20);
    await burst(600, 100);
    await alerts('run', 12);
    await bot.vigil.container.flushAudit();
    const after = await entries();

    const known = new Set(before.map((e) => e.query));
    const added = after.filter((e) => !known.has(e.query)).map((e) => e.query.slice(0, 120));
    console.info(`pg_stat_statements: ${before.length} entries after the warm-up, ${after.length} after 1,000 commands and 12 alerts`);
    // The entry count reading itself is one; batches of any size are one statement each.
    expect(added.length, added.join('\n')).toBeLessThanOrEqual(5);
  }, 120_000);
});
