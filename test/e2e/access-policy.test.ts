/**
 * The access policy end to end: one real bot (config loaded as main.ts loads it, the machine's
 * Postgres and Redis) with an `access:` section, driven by signed Slack requests; user groups come
 * from the Slack stand-in's usergroups.users.list. Each refusal is checked where a person sees it,
 * where it must change nothing (Postgres, the approvals channel, the alert message), in the audit
 * trail and in /metrics. Groups are cached 5 minutes, so they are set before the bot starts, and
 * the fail-closed case uses a group (S0DATA) nothing asks about before it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { ALERT_SIGNING_SECRET, ALERT_WEBHOOK_TOKEN, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { blockText, type SlackApiServer, type StoredMessage } from '../support/slack-api-server.ts';
import { blockActionsBody, postSigned, signBody, signedSlashCommand, viewSubmissionBody } from '../support/slack-requests.ts';
import { answerBody, answerText, buttonOn, type Answer } from '../support/slack-answers.ts';
import { sleep, waitFor, waitForValue } from '../support/wait.ts';

const OPS = 'C0OPS';
const RANDOM = 'C0RANDOM';
const ALERTS = 'C0ACCALERTS';
const APPROVALS = 'C0ACCAPPROVE';
const ALICE = 'U0ALICE'; // @sre, @data
const OSCAR = 'U0OSCAR'; // on call
const MALLORY = 'U0MALLORY'; // in no group (but may run /run)
const BOSS = 'U0BOSS';

let world: BotWorld;
let slack: SlackApiServer;
let db: pg.Pool;
let bot: AlertsBot;
const WAIT_MS = 10_000;
/** A slash command as Slack sends it; the answer, whether it came with the ack or (slow, on a busy machine) to response_url. */
async function slash(user: string, command: string, text: string, channel = RANDOM): Promise<Answer> {
  const id = `slash-${Math.random().toString(36).slice(2)}`;
  const req = signedSlashCommand({ command, text, user_id: user, user_name: user.slice(2).toLowerCase(), channel_id: channel, response_url: slack.responseUrl(id) }, { signingSecret: ALERT_SIGNING_SECRET });
  const res = await postSigned(`${bot.baseUrl}/slack/events`, req);
  expect(res.status).toBe(200);
  if (!res.json) throw new Error(`no JSON answer to ${command} ${text}: ${res.text}`);
  if (!String(res.json.text).includes(':hourglass_flowing_sand: Working on')) return res;
  return waitForValue(() => slack.responses.find((r) => r.path === `/response/${id}`), `the deferred answer to ${command} ${text}`, WAIT_MS);
}

/** A button click as Slack posts it; the answer goes to a response_url of its own, returned with it. */
async function click(user: string, actionId: string, value: string, channel: string, messageTs?: string) {
  const id = `click-${Math.random().toString(36).slice(2)}`;
  const body = blockActionsBody({ actionId, value, userId: user, userName: user.slice(2).toLowerCase(), channelId: channel, ...(messageTs ? { messageTs } : {}), responseUrl: slack.responseUrl(id) });
  const res = await postSigned(`${bot.baseUrl}/slack/events`, signBody(body, { signingSecret: ALERT_SIGNING_SECRET }));
  expect(res.status).toBe(200);
  return waitForValue(() => slack.responses.find((r) => r.path === `/response/${id}`), `the answer to ${actionId} by ${user}`, WAIT_MS);
}

/** A row of vigil.audit_events, with `details.rule` as `rule`. */
type AuditRow = { id: number; kind: string; subject: string; actor_id: string; channel: string | null; outcome: string; rule: string | null };

/** Refusals in the audit trail, oldest first. */
async function refusals(): Promise<AuditRow[]> {
  const sql = "SELECT id::int AS id, kind, subject, actor_id, channel, outcome, details->>'rule' AS rule FROM vigil.audit_events WHERE outcome = 'refused' ORDER BY id";
  return (await db.query<AuditRow>(sql)).rows;
}

/** Wait for the audit row of a refusal, and return it. */
function refusalRow(match: Partial<AuditRow>, after = 0): Promise<AuditRow> {
  return waitForValue(async () => (await refusals()).find((r) => r.id > after && Object.entries(match).every(([k, v]) => r[k as keyof AuditRow] === v)), `the audit row of ${JSON.stringify(match)}`, WAIT_MS);
}

const lastRefusalId = async () => (await refusals()).at(-1)?.id ?? 0;

beforeAll(async () => {
  world = await createBotWorld('access');
  ({ slack, db } = world);
  slack.setUserGroup('S0SRE', [ALICE]);
  slack.setUserGroup('S0ONCALL', [OSCAR]);
  slack.setUserGroup('S0DATA', [ALICE]);
  bot = await startAlertsBot({
    slack,
    databaseUrl: world.testDb.url,
    workDir: world.workDir,
    queuePrefix: world.queuePrefix,
    alerts: {
      channels: { default: ALERTS },
      actions: { PostgresReplicationLag: [{ action: 'restart-api', label: 'Restart api' }, { action: 'flush-cache', label: 'Flush cache' }] },
    },
    extra: {
      access: {
        commands: {
          audit: { groups: ['S0SRE'] },
          slowqueries: { groups: ['S0SRE', 'S0ONCALL'], channels: [OPS] },
          queue: { groups: ['S0DATA'] },
          // Who may request an action that names no requesters (flush-cache), from /run or a button.
          run: { users: [MALLORY], groups: ['S0ONCALL'] },
        },
        alerts: { acknowledge: { groups: ['S0ONCALL'] } },
      },
      actions: {
        approvalChannel: APPROVALS,
        catalog: {
          'restart-api': { title: 'Restart the API', risk: 'high', exec: ['/bin/true'], approvers: { users: [BOSS] }, requesters: { groups: ['S0ONCALL'] } },
          'flush-cache': { title: 'Flush the cache', risk: 'high', exec: ['/bin/true'], approvers: { users: [BOSS] } },
        },
      },
    },
  });
});

afterAll(async () => {
  await bot?.stop();
  await world?.close();
});

describe('commands', () => {
  it('/audit by a non-member is refused, names the group and shows no entries; a member sees the entries', async () => {
    const before = await lastRefusalId();
    const refused = await slash(MALLORY, '/audit', '');
    expect(answerText(refused)).toContain('/audit is for members of <!subteam^S0SRE>.');
    expect(answerText(refused)).not.toContain('Audit trail');
    expect(answerText(refused)).not.toMatch(/actor.*kind.*subject.*outcome/);
    const row = await refusalRow({ kind: 'command', subject: 'audit', actor_id: MALLORY }, before);
    expect(row).toMatchObject({ channel: RANDOM, rule: 'access.commands.audit' });

    const answered = await slash(ALICE, '/audit', '');
    expect(answerText(answered)).toMatch(/Audit trail \(\d+ newest\)/);
    // The table of entries, Mallory's refusal among them.
    expect(answerText(answered)).toMatch(/actor.*kind.*subject.*outcome/);
    expect(answerText(answered)).toMatch(/mallory.*command.*audit.*refused/);
    expect(answerText(answered)).not.toContain('is for members of');
  });

  it('/audit --public by a member is refused (no publicIn) and stays ephemeral; an open command does go public', async () => {
    const before = await lastRefusalId();
    const res = await slash(ALICE, '/audit', '--public');
    expect(answerBody(res).response_type).toBe('ephemeral');
    expect(answerText(res)).toContain('/audit --public is not allowed');
    expect(answerText(res)).not.toContain('Audit trail');
    await refusalRow({ kind: 'command', subject: 'audit', actor_id: ALICE, rule: 'access.commands.audit.publicIn' }, before);
    // The same flag on a command without a rule posts to the channel: the refusal above is the policy's.
    expect(answerBody(await slash(ALICE, '/health', '--public')).response_type).toBe('in_channel');
  });

  it('/slowqueries is refused outside #ops even for a member, and answers in #ops', async () => {
    const before = await lastRefusalId();
    const elsewhere = await slash(OSCAR, '/slowqueries', '');
    expect(answerText(elsewhere)).toContain('/slowqueries answers only in <#C0OPS>. Run it there.');
    expect(answerText(elsewhere)).not.toContain('Slow queries');
    await refusalRow({ kind: 'command', subject: 'slowqueries', actor_id: OSCAR, channel: RANDOM, rule: 'access.commands.slowqueries' }, before);

    const inOps = await slash(OSCAR, '/slowqueries', '', OPS);
    expect(answerText(inOps)).toMatch(/Slow queries|long-running/i);
    expect(answerText(inOps)).not.toContain('answers only');
    // A non-member is refused in #ops too, told who may.
    const outsider = await slash(MALLORY, '/slowqueries', '', OPS);
    expect(answerText(outsider)).toContain('/slowqueries is for members of <!subteam^S0SRE> or <!subteam^S0ONCALL> in <#C0OPS>.');
  });

  it('a command without a rule (/health) stays open to anyone, anywhere', async () => {
    const res = await slash(MALLORY, '/health', '');
    expect(answerText(res)).toContain('Health');
    expect(answerText(res)).not.toMatch(/is for|answers only|could not confirm/);
  });

  it('fails closed: when Slack cannot list the group, a member is refused with "Slack could not confirm"; once it can, let in', async () => {
    // S0DATA has not been asked about yet (nothing cached), so this is the bot's first question.
    slack.inject({ method: 'usergroups.users.list', error: 'missing_scope', count: 1 });
    const before = await lastRefusalId();
    const res = await slash(ALICE, '/queue', '');
    expect(answerText(res)).toContain('/queue is for members of <!subteam^S0DATA>. Slack could not confirm your membership just now');
    expect(slack.calls.filter((c) => c.method === 'usergroups.users.list' && c.body.usergroup === 'S0DATA').map((c) => c.response.ok)).toEqual([false]);
    await refusalRow({ kind: 'command', subject: 'queue', actor_id: ALICE, rule: 'access.commands.queue' }, before);

    const again = await slash(ALICE, '/queue', '');
    expect(answerText(again)).not.toContain('could not confirm');
    expect(answerText(again)).not.toContain('is for members of');
  });

  it('/vigil help for a non-member lists only what they may run and says the rest is hidden', async () => {
    const mallory = answerText(await slash(MALLORY, '/vigil', 'help'));
    expect(mallory).toContain('/health');
    for (const hidden of ['/audit', '/slowqueries', '/queue']) expect(mallory).not.toContain(hidden);
    expect(mallory).toContain('3 more commands are for other people or channels');
    // Alice (in @sre and @data) sees /audit and /queue; /slowqueries answers only in #ops; /run is not hers.
    const alice = answerText(await slash(ALICE, '/vigil', 'help'));
    expect(alice).toContain('/audit');
    expect(alice).toContain('/queue');
    expect(alice).not.toContain('/slowqueries');
    expect(alice).toContain('2 more commands are for other people or channels');
    const inOps = answerText(await slash(ALICE, '/vigil', 'help', OPS));
    expect(inOps).toContain('/slowqueries');
    expect(inOps).toContain('1 more command is for other people or channels');
  });

  it('a suggestion button running /audit is refused for a non-member, and runs for a member', async () => {
    const before = await lastRefusalId();
    const refused = await click(MALLORY, 'vigil.command#0', '/audit', OPS);
    expect(answerText(refused)).toContain('/audit is for members of <!subteam^S0SRE>.');
    expect(answerText(refused)).not.toContain('Audit trail');
    await refusalRow({ kind: 'command', subject: 'audit', actor_id: MALLORY, channel: OPS, rule: 'access.commands.audit' }, before);
    expect(answerText(await click(ALICE, 'vigil.command#0', '/audit', OPS))).toMatch(/Audit trail \(\d+ newest\)/);
  });
});

describe('actions', () => {
  const requests = async () => (await db.query<{ requested_by: string }>("SELECT requested_by FROM vigil.action_requests WHERE action = 'restart-api' ORDER BY created_at")).rows;

  it('/run restart-api by a non-requester posts nothing to the approvals channel; by a requester it does', async () => {
    const before = await lastRefusalId();
    const posted = slack.topLevel(APPROVALS).length;
    const refused = await slash(MALLORY, '/run', 'restart-api');
    expect(answerText(refused)).toContain('Requesting restart-api is for members of <!subteam^S0ONCALL>.');
    const row = await refusalRow({ kind: 'action.request', subject: 'restart-api', actor_id: MALLORY }, before);
    expect(row).toMatchObject({ channel: RANDOM, rule: 'actions.catalog.restart-api.requesters' });
    // The /run command's own row names the rule that refused too.
    await refusalRow({ kind: 'command', subject: 'run', actor_id: MALLORY, channel: RANDOM, rule: 'actions.catalog.restart-api.requesters' }, before);
    expect(await requests()).toEqual([]);

    const asked = await slash(OSCAR, '/run', 'restart-api');
    expect(answerText(asked)).toContain('waiting for 1 approval');
    await waitFor(() => slack.topLevel(APPROVALS).length > posted, { what: 'the approval message' });
    expect(slack.topLevel(APPROVALS).slice(posted).map((m) => blockText(m.blocks))).toEqual([expect.stringContaining('Restart the API')]);
    expect(await requests()).toEqual([{ requested_by: OSCAR }]);
  });
});

describe('alert messages', () => {
  let alert: StoredMessage;
  const ackedBy = async () => (await db.query<{ acked_by: string | null }>("SELECT acked_by FROM vigil.alert_groups WHERE state->'commonLabels'->>'alertname' = 'PostgresReplicationLag'")).rows;

  beforeAll(async () => {
    const res = await fetch(`${bot.baseUrl}/alerts/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ALERT_WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
      body: readFileSync(new URL('../fixtures/alertmanager/firing-one.json', import.meta.url), 'utf8'),
    });
    expect(res.status).toBe(200);
    alert = await waitForValue(() => slack.topLevel(ALERTS)[0], 'the alert message', 10_000);
  });

  it('Acknowledge by a non-member of @oncall changes nothing; by a member it acks', async () => {
    const ack = buttonOn(alert, 'Acknowledge');
    const before = await lastRefusalId();
    const updates = alert.updates;
    const refused = await click(MALLORY, ack.action_id, ack.value, ALERTS, alert.ts);
    expect(answerText(refused)).toContain('Acting on alert messages is for members of <!subteam^S0ONCALL>.');
    expect(refused.body.response_type).toBe('ephemeral');
    expect(await ackedBy()).toEqual([{ acked_by: null }]);
    const row = await refusalRow({ kind: 'click', subject: 'alerts.ack', actor_id: MALLORY }, before);
    expect(row).toMatchObject({ channel: ALERTS, rule: 'access.alerts.acknowledge' });
    // Time for an update the click might have queued to reach the channel: none did.
    await sleep(500);
    expect(alert.updates).toBe(updates);
    expect(blockText(alert.blocks)).not.toContain('Acknowledged by');

    await click(OSCAR, ack.action_id, ack.value, ALERTS, alert.ts);
    expect(await ackedBy()).toEqual([{ acked_by: OSCAR }]);
    await waitFor(() => blockText(alert.blocks).includes('Acknowledged by <@U0OSCAR>'), { what: 'the acknowledged message' });
  });

  it('runbook buttons request only for who may: the action\'s requesters, else whoever may run /run', async () => {
    const [restart, flush] = [buttonOn(alert, 'Restart api'), buttonOn(alert, 'Flush cache')];
    const before = await lastRefusalId();
    const posted = slack.topLevel(APPROVALS).length;
    expect(answerText(await click(MALLORY, restart.action_id, restart.value, ALERTS, alert.ts))).toContain('Requesting restart-api is for members of <!subteam^S0ONCALL>.');
    await refusalRow({ kind: 'action.request', subject: 'restart-api', actor_id: MALLORY, channel: ALERTS, rule: 'actions.catalog.restart-api.requesters' }, before);
    // flush-cache names no requesters: the /run rule says who (not where: the button is in the alerts channel).
    expect(answerText(await click(ALICE, flush.action_id, flush.value, ALERTS, alert.ts))).toContain('Requesting flush-cache is for <@U0MALLORY> and members of <!subteam^S0ONCALL>.');
    await refusalRow({ kind: 'action.request', subject: 'flush-cache', actor_id: ALICE, channel: ALERTS, rule: 'access.commands.run' }, before);
    // Refused before anything was stored (a request is stored before its approval message is posted).
    expect((await db.query("SELECT 1 FROM vigil.action_requests WHERE requested_by IN ($1, $2)", [MALLORY, ALICE])).rows).toEqual([]);
    expect(answerText(await click(OSCAR, flush.action_id, flush.value, ALERTS, alert.ts))).toContain('waiting for 1 approval');
    await waitFor(() => slack.topLevel(APPROVALS).length > posted, { what: 'the flush-cache approval message' });
    expect(slack.topLevel(APPROVALS).slice(posted).map((m) => blockText(m.blocks))).toEqual([expect.stringContaining('Flush the cache')]);
  });
});

describe('forms', () => {
  it('a request form submitted by someone who may not ask is answered with the refusal, not as a typo in the form', async () => {
    const before = await lastRefusalId();
    const body = viewSubmissionBody({ callbackId: 'actions.request-form#0', values: { reason: 'cache is stale' }, userId: ALICE, privateMetadata: JSON.stringify({ action: 'flush-cache', params: {} }) });
    const res = await postSigned(`${bot.baseUrl}/slack/events`, signBody(body, { signingSecret: ALERT_SIGNING_SECRET }));
    expect(res.status).toBe(200);
    // The modal shows the refusal (response_action update), not field errors to correct.
    expect(res.json?.response_action).toBe('update');
    expect(JSON.stringify(res.json?.view)).toContain('Requesting flush-cache is for');
    await refusalRow({ kind: 'action.request', subject: 'flush-cache', actor_id: ALICE, rule: 'access.commands.run' }, before);
    expect((await db.query('SELECT 1 FROM vigil.action_requests WHERE requested_by = $1', [ALICE])).rows).toEqual([]);
  });
});

describe('counted', () => {
  it('/metrics counts every refusal in vigil_access_refusals_total, as the audit trail has them', async () => {
    const text = await (await fetch(`${bot.baseUrl}/metrics`)).text();
    const count = (kind: string, subject: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`vigil_access_refusals_total{kind="${kind}",subject="${subject}",surface="slack"} `));
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    const rows = await refusals();
    const audited = (kind: string, subject: string) => rows.filter((r) => r.kind === kind && r.subject === subject).length;
    // Slash commands and suggestion buttons (which run the command) are command refusals.
    expect(count('command', 'audit')).toBe(audited('command', 'audit'));
    expect(count('command', 'audit')).toBe(3);
    expect(count('command', 'slowqueries')).toBe(2);
    expect(count('command', 'queue')).toBe(1);
    expect(count('command', 'run')).toBe(1);
    expect(count('click', 'alerts.ack')).toBe(audited('click', 'alerts.ack'));
    expect(count('click', 'alerts.ack')).toBe(1);
    // The runbook button's refusal is audited with its action, counted as a refused click.
    expect(count('click', 'actions.request')).toBe(2);
    expect(audited('action.request', 'restart-api')).toBe(2);
    expect(audited('action.request', 'flush-cache')).toBe(2);
    // …and so is a refused form submission.
    expect(count('click', 'actions.request-form')).toBe(1);
    // Every refusal names its actor and the rule that refused.
    // (A form submission has no channel.)
    expect(rows.every((r) => r.actor_id.startsWith('U0') && (r.channel !== null || r.kind === 'action.request'))).toBe(true);
    expect(rows.filter((r) => r.rule === null)).toEqual([]);
  });
});
