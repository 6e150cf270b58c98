/**
 * Issue 20's path end to end, through the real bot and signed Slack requests, the bot inspecting
 * the database as a role with only `pg_monitor` and `pg_signal_backend` (its own state in another
 * database URL, as the owner): an application's session holds a row lock and another waits on it; `/db locks` shows both and offers Terminate for the blocker;
 * pressing it asks for the catalog's postgres.terminate action, an approver approves, the worker
 * terminates the blocker, and the waiting UPDATE completes. Every step is in the audit trail.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_SIGNING_SECRET, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { adminQuery } from '../support/pg.ts';
import { answerBody, answerText, buttonOn, type Answer } from '../support/slack-answers.ts';
import { blockText, type StoredMessage } from '../support/slack-api-server.ts';
import { blockActionsBody, postSigned, signBody, signedSlashCommand } from '../support/slack-requests.ts';
import { uniqueName } from '../support/env.ts';
import { waitFor, waitForValue } from '../support/wait.ts';

const APPROVALS = 'C0DBAPPROVE';
const OPS = 'C0DBOPS';
const ALICE = 'U0ALICE';
const BOSS = 'U0BOSS';

let world: BotWorld;
let bot: AlertsBot;
const monitor = uniqueName('dbmon');
const app = uniqueName('dbapp');
const as = (role: string) => {
  const url = new URL(world.testDb.url);
  url.username = role;
  return url.toString();
};
const sessions: pg.Client[] = [];

async function session(application: string): Promise<{ client: pg.Client; pid: number }> {
  // The application's own role: pg_signal_backend never reaches a superuser's session.
  const client = new pg.Client({ connectionString: as(app), application_name: application });
  await client.connect();
  client.on('error', () => undefined); // the blocker is terminated on purpose
  sessions.push(client);
  return { client, pid: Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid) };
}

async function slash(user: string, command: string, text: string): Promise<Answer> {
  const id = `slash-${Math.random().toString(36).slice(2)}`;
  const res = await postSigned(`${bot.baseUrl}/slack/events`, signedSlashCommand({ command, text, user_id: user, user_name: user.slice(2).toLowerCase(), channel_id: OPS, response_url: world.slack.responseUrl(id) }, { signingSecret: ALERT_SIGNING_SECRET }));
  expect(res.status).toBe(200);
  if (!String(res.json?.text ?? '').includes('Working on')) return res;
  return waitForValue(() => world.slack.responses.find((r) => r.path === `/response/${id}`), `the deferred answer to ${command} ${text}`, 10_000);
}

async function click(user: string, button: { action_id: string; value: string }, channel: string, messageTs?: string): Promise<Answer> {
  const id = `click-${Math.random().toString(36).slice(2)}`;
  const body = blockActionsBody({ actionId: button.action_id, value: button.value, userId: user, userName: user.slice(2).toLowerCase(), channelId: channel, ...(messageTs ? { messageTs } : {}), responseUrl: world.slack.responseUrl(id) });
  expect((await postSigned(`${bot.baseUrl}/slack/events`, signBody(body, { signingSecret: ALERT_SIGNING_SECRET }))).status).toBe(200);
  return waitForValue(() => world.slack.responses.find((r) => r.path === `/response/${id}`), `the answer to ${button.action_id}`, 10_000);
}

beforeAll(async () => {
  world = await createBotWorld('db_locks');
  await adminQuery(
    `CREATE ROLE ${monitor} LOGIN; GRANT pg_monitor, pg_signal_backend TO ${monitor};
     CREATE ROLE ${app} LOGIN;
     CREATE TABLE accounts (id int PRIMARY KEY, note text); INSERT INTO accounts VALUES (1, 'a'); GRANT SELECT, UPDATE ON accounts TO ${app};`,
    world.testDb.name,
  );
  bot = await startAlertsBot({
    slack: world.slack,
    databaseUrl: as(monitor),
    env: { VIGIL_DATABASE_URL: world.testDb.url },
    workDir: world.workDir,
    queuePrefix: world.queuePrefix,
    alerts: { channels: { default: 'C0ALERTS' } },
    extra: {
      actions: {
        approvalChannel: APPROVALS,
        catalog: {
          'terminate-backend': { title: 'Terminate a Postgres session', risk: 'high', builtin: 'postgres.terminate', approvers: { users: [BOSS] } },
          'cancel-query': { title: 'Cancel a query', risk: 'high', builtin: 'postgres.cancel', approvers: { users: [BOSS] } },
        },
      },
    },
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
  await bot?.stop();
  await world?.close();
  await adminQuery(`DROP ROLE IF EXISTS ${monitor}; DROP ROLE IF EXISTS ${app}`).catch(() => undefined);
});

describe('/db locks → Terminate blocker → approval → the waiting UPDATE completes', () => {
  it('ends the blocker through an approved action, audited, and the session waiting on it goes on', { timeout: 60_000 }, async () => {
    const holder = await session('billing-job');
    const waiter = await session('checkout-api');
    await holder.client.query('BEGIN');
    await holder.client.query("UPDATE accounts SET note = 'held' WHERE id = 1");
    const waiting = waiter.client.query("UPDATE accounts SET note = 'paid' WHERE id = 1");

    const locks = await waitForValue(async () => {
      const answer = await slash(ALICE, '/db', 'locks');
      return answerText(answer).includes(`Terminate ${holder.pid}`) ? answer : undefined;
    }, 'the blocker in /db locks', 10_000);
    const text = answerText(locks);
    expect(text).toContain(`waits for ${holder.pid}`);
    expect(text).toContain("UPDATE accounts SET note = '***' WHERE id = 1");
    const terminate = buttonOn({ blocks: answerBody(locks).blocks } as StoredMessage, `Terminate ${holder.pid}`);

    const asked = await click(ALICE, terminate, OPS);
    expect(answerText(asked)).toContain('waiting for 1 approval');
    await waitFor(() => world.slack.topLevel(APPROVALS).length === 1, { timeoutMs: 10_000, what: 'the approval message' });
    const approval = world.slack.topLevel(APPROVALS)[0] as StoredMessage;
    expect(blockText(approval.blocks)).toContain(`postgres.terminate pid=${holder.pid}`);

    await click(BOSS, buttonOn(approval, 'Approve'), APPROVALS, approval.ts);
    await expect(waiting).resolves.toMatchObject({ rowCount: 1 });
    await waitFor(() => blockText(approval.blocks).includes('Succeeded'), { timeoutMs: 10_000, what: 'the result on the approval message' });
    const left = await world.db.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [holder.pid]);
    expect(left.rows[0]).toEqual({ n: 0 });

    const { rows } = await world.db.query("SELECT kind, actor_id, outcome FROM vigil.audit_events WHERE subject = 'terminate-backend' ORDER BY id");
    expect(rows).toEqual([
      { kind: 'action.request', actor_id: ALICE, outcome: 'requested' },
      { kind: 'action.approve', actor_id: BOSS, outcome: 'approved' },
      { kind: 'action.start', actor_id: 'vigil', outcome: 'running' },
      { kind: 'action.end', actor_id: 'vigil', outcome: 'succeeded' },
    ]);
    expect(answerText(await slash(ALICE, '/db', 'locks'))).toContain('No session waits for a lock');
  });
});
