/**
 * A request never asks the state pool for a second connection while it holds one (DESIGN rule 8):
 * with a pool of 3, 30 /run requests at once and then 30 approvals at once all go through, each
 * audited, none answered with a pool error. Before the outbox took the caller's connection, each
 * request held one connection (its transaction) and asked for another (the outbox's duplicate
 * check): three at once took the whole pool and waited on each other until the pool gave up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_SIGNING_SECRET, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { blockActionsBody, postSigned, signBody, signedSlashCommand } from '../support/slack-requests.ts';
import { blockText, type StoredMessage } from '../support/slack-api-server.ts';
import { waitFor } from '../support/wait.ts';

const APPROVALS = 'C0APPROVALS';
const BOSS = 'U0BOSS';
const N = 30;

let world: BotWorld;
let bot: AlertsBot;

beforeAll(async () => {
  world = await createBotWorld('pool_starvation');
  bot = await startAlertsBot({
    slack: world.slack,
    databaseUrl: world.testDb.url,
    workDir: world.workDir,
    queuePrefix: world.queuePrefix,
    alerts: { channels: { default: 'C0ALERTS' } },
    extra: {
      state: { queuePrefix: world.queuePrefix, poolMax: 3 },
      slack: { outbox: { perSecond: 50, burst: 20 } },
      actions: {
        approvalChannel: APPROVALS,
        catalog: { noop: { title: 'Do nothing', risk: 'low', exec: ['true'], approvers: { users: [BOSS] } } },
      },
    },
  });
}, 120_000);

afterAll(async () => {
  await bot?.stop();
  await world?.close();
});

/** Every answer Slack got for these requests, immediate or through response_url, as text. */
function failures(answers: unknown[]): string[] {
  const texts = [...answers, ...world.slack.responses.map((r) => r.body)].map((a) => JSON.stringify(a));
  return texts.filter((t) => /Something went wrong|did not accept a connection|busy|Cannot /i.test(t));
}

describe('a pool of 3 connections under 30 requests and 30 approvals at once', () => {
  it('requests and decides every one, audited, with no pool error', { timeout: 90_000 }, async () => {
    const asked = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        postSigned(
          `${bot.baseUrl}/slack/events`,
          signedSlashCommand({ command: '/run', text: `noop --reason r${i}`, user_id: `U0REQ${i}`, user_name: `req${i}`, response_url: world.slack.responseUrl(`ask-${i}`) }, { signingSecret: ALERT_SIGNING_SECRET }),
        ),
      ),
    );
    expect(asked.map((r) => r.status)).toEqual(Array(N).fill(200));
    await waitFor(() => world.slack.topLevel(APPROVALS).length === N, { timeoutMs: 30_000, what: `${N} approval messages` });
    expect(failures(asked.map((r) => r.json))).toEqual([]);

    const messages = world.slack.topLevel(APPROVALS) as StoredMessage[];
    const clicks = await Promise.all(
      messages.map((message, i) => {
        const approve = (message.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string; text?: { text?: string } }> }>)
          .flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []))
          .find((e) => e.text?.text === 'Approve');
        if (!approve?.action_id || !approve.value) throw new Error(`no Approve button on ${blockText(message.blocks)}`);
        const body = blockActionsBody({ actionId: approve.action_id, value: approve.value, userId: BOSS, userName: 'boss', channelId: APPROVALS, messageTs: message.ts, responseUrl: world.slack.responseUrl(`approve-${i}`) });
        return postSigned(`${bot.baseUrl}/slack/events`, signBody(body, { signingSecret: ALERT_SIGNING_SECRET }));
      }),
    );
    expect(clicks.map((r) => r.status)).toEqual(Array(N).fill(200));
    await waitFor(
      async () => Number((await world.db.query("SELECT count(*) AS n FROM vigil.action_requests WHERE state = 'succeeded'")).rows[0]?.n) === N,
      { timeoutMs: 30_000, what: `${N} runs` },
    );
    expect(failures(clicks.map((r) => r.json))).toEqual([]);
    const { rows } = await world.db.query("SELECT kind, outcome, count(*)::int AS n FROM vigil.audit_events WHERE kind IN ('action.request', 'action.approve') GROUP BY 1, 2 ORDER BY 1, 2");
    expect(rows).toEqual([
      { kind: 'action.approve', outcome: 'approved', n: N },
      { kind: 'action.request', outcome: 'requested', n: N },
    ]);
  });
});
