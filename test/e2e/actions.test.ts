/**
 * Approved actions end to end over signed Slack requests: /run asks, an approver clicks Approve in
 * the approvals channel, the worker runs the action once and reports in the thread. The action
 * here restarts a real child process the test started (checked by its new pid).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, Worker } from 'bullmq';
import type pg from 'pg';
import { ALERT_SIGNING_SECRET, ALERT_WEBHOOK_TOKEN, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { startAlertmanager, type Alertmanager } from '../support/alertmanager.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { TEST_REDIS_URL } from '../support/env.ts';
import { blockText, type SlackApiServer, type StoredMessage } from '../support/slack-api-server.ts';
import { blockActionsBody, postSigned, signBody, signedSlashCommand, viewSubmissionBody } from '../support/slack-requests.ts';
import { waitFor } from '../support/wait.ts';
import { REPO_ROOT, ensureBuilt, runNode } from '../support/run-process.ts';

const APPROVALS = 'C0APPROVALS';
const ALICE = 'U0ALICE';
const BOSS = 'U0BOSS';
const BOSS2 = 'U0BOSS2';
const MALLORY = 'U0MALLORY';

let world: BotWorld;
let slack: SlackApiServer;
let db: pg.Pool;
let workDir: string;
let queuePrefix: string;
let bot: AlertsBot | null = null;
let pidFile: string;
let runsFile: string;
let alertmanager: Alertmanager;

/** A script that restarts "the service": kills the pid in the pid file, starts a new one, records the run. */
const RESTART_SCRIPT = `
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
const [pidFile, runsFile, service] = process.argv.slice(2);
const old = Number(readFileSync(pidFile, 'utf8'));
try { process.kill(old, 'SIGTERM'); } catch {}
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
child.unref();
writeFileSync(pidFile, String(child.pid));
appendFileSync(runsFile, service + '\\n');
console.log('restarted ' + service + ': ' + old + ' -> ' + child.pid);
`;

function startService(): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid as number;
}

async function startBot(): Promise<AlertsBot> {
  const script = join(workDir, 'restart.mjs');
  const exec = ['node', script, pidFile, runsFile, '{service}'];
  const approvers = { users: [BOSS, BOSS2] };
  bot = await startAlertsBot({
    slack,
    databaseUrl: world.testDb.url,
    workDir,
    queuePrefix,
    alerts: {
      channels: { default: 'C0ALERTS' },
      // Runbook actions on the alert's message: one fixed, one from a label the action refuses (no button).
      actions: {
        PostgresReplicationLag: [
          { action: 'restart-svc', label: 'Restart svc-a', params: { service: 'svc-a' } },
          { action: 'restart-svc', label: 'Restart the team', params: { service: '$labels.team' } },
        ],
      },
    },
    env: { ALERTMANAGER_URL: alertmanager.url },
    extra: {

      actions: {
        approvalChannel: APPROVALS,
        // The action restarts a process this (root) test started, with files in its 0700 work dir:
        // run as root on purpose. The default, nobody, is tested in action-run-as.test.ts.
        runAs: 'root',
        catalog: {
          'restart-svc': { title: 'Restart the test service', risk: 'high', exec, params: { service: { enum: ['svc-a'] } }, approvers, approvals: 1 },
          'restart-two': { title: 'Restart, four eyes', risk: 'high', exec, params: { service: { enum: ['svc-a'] } }, approvers, approvals: 2 },
          'restart-group': { title: 'Restart, on-call group approves', risk: 'high', exec, params: { service: { enum: ['svc-a'] } }, approvers: { groups: ['S0ONCALL'] } },
          'silence-alert': { title: 'Silence an alert', risk: 'low', builtin: 'alertmanager.silence', approvers },
          'silence-self': { title: 'Silence, self-service up to 2h', risk: 'low', builtin: 'alertmanager.silence', approvers, selfServiceUpTo: '2h' },
          'retry-failed': { title: 'Retry failed jobs', risk: 'low', builtin: 'bullmq.retryFailed', approvers },
          'restart-soon': { title: 'Restart, expires fast', risk: 'high', exec, params: { service: { enum: ['svc-a'] } }, approvers, expiresAfter: '1s' },
        },
      },
    },
  });
  return bot;
}

const slash = (user: string, text: string) =>
  postSigned(`${bot?.baseUrl}/slack/events`, signedSlashCommand({ command: '/run', text, user_id: user, user_name: user.toLowerCase(), response_url: slack.responseUrl() }, { signingSecret: ALERT_SIGNING_SECRET }));

function click(user: string, message: StoredMessage, which: string) {
  const button = (message.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string; text?: { text?: string } }> }>)
    .flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []))
    .find((e) => e.text?.text === which);
  if (!button?.action_id || !button.value) throw new Error(`no ${which} button on ${blockText(message.blocks)}`);
  return postSigned(
    `${bot?.baseUrl}/slack/events`,
    signBody(blockActionsBody({ actionId: button.action_id, value: button.value, userId: user, userName: user.toLowerCase(), channelId: APPROVALS, messageTs: message.ts, responseUrl: slack.responseUrl() }), {
      signingSecret: ALERT_SIGNING_SECRET,
    }),
  );
}

/** Ask with /run and return the approval message it posts (the stand-in keeps it live as it is updated). */
async function ask(user: string, text: string): Promise<StoredMessage> {
  const before = slack.topLevel(APPROVALS).length;
  const res = await slash(user, text);
  expect(res.status).toBe(200);
  await waitFor(() => slack.topLevel(APPROVALS).length > before, { what: `the approval message for ${text} (answer: ${JSON.stringify(res.json)})` });
  return slack.topLevel(APPROVALS)[before] as StoredMessage;
}

const runs = () => (existsSync(runsFile) ? readFileSync(runsFile, 'utf8').split('\n').filter(Boolean).length : 0);
const answers = () => slack.responses.map((r) => JSON.stringify(r.body));

beforeAll(async () => {
  world = await createBotWorld('actions');
  ({ slack, db, workDir, queuePrefix } = world);
  pidFile = join(workDir, 'service.pid');
  runsFile = join(workDir, 'runs.log');
  await writeFile(join(workDir, 'restart.mjs'), RESTART_SCRIPT);
  await writeFile(pidFile, String(startService()));
  // A real Alertmanager for the silences approved here (its own webhook is not used).
  alertmanager = await startAlertmanager({ webhookUrl: 'http://127.0.0.1:9/unused' });
  await startBot();
});

afterAll(async () => {
  await bot?.stop();
  await alertmanager?.stop();
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
  } catch {
    // already gone
  }
  await world.close();
});

describe('approved actions', () => {
  it('an approver approves and the action runs once: the service has a new pid, the thread has the result', async () => {
    const before = Number(readFileSync(pidFile, 'utf8'));
    const message = await ask(ALICE, 'restart-svc --service svc-a');
    expect(blockText(message.blocks)).toContain(`node ${join(workDir, 'restart.mjs')}`);

    expect((await click(BOSS, message, 'Approve')).status).toBe(200);
    await waitFor(() => blockText(message.blocks).includes('Succeeded'), { timeoutMs: 10_000, what: 'the succeeded message' });
    const after = Number(readFileSync(pidFile, 'utf8'));
    expect(after).not.toBe(before);
    expect(() => process.kill(after, 0)).not.toThrow();
    expect(runs()).toBe(1);
    await waitFor(() => slack.replies(APPROVALS, message.ts).some((r) => r.text.includes(`restarted svc-a: ${before} -&gt; ${after}`)), { what: 'the output in the thread' });

    const { rows } = await db.query<{ kind: string; outcome: string }>('SELECT kind, outcome FROM vigil.audit_events WHERE request_id IS NOT NULL ORDER BY id');
    expect(rows.map((r) => `${r.kind}:${r.outcome}`)).toEqual(['action.request:requested', 'action.approve:approved', 'action.start:running', 'action.end:succeeded']);
  });

  it('waits for approval, saying so to the requester', async () => {
    const before = slack.topLevel(APPROVALS).length;
    const asked = await slash(ALICE, 'restart-svc --service svc-a --reason "deploy stuck"');
    expect(JSON.stringify(asked.json)).toContain('waiting for 1 approval');
    // The approvals channel as a real channel link, not the escaped text of one.
    expect(JSON.stringify(asked.json)).toContain(`waiting for 1 approval(s) in <#${APPROVALS}>`);
    await waitFor(() => slack.topLevel(APPROVALS).length > before, { what: 'the approval message' });
    expect(blockText(slack.topLevel(APPROVALS)[before]?.blocks)).toContain('deploy stuck');
  });

  it('the requester, an outsider, a denied and an expired request run nothing', async () => {
    const start = runs();
    // An approver asking cannot approve their own request.
    const own = await ask(BOSS, 'restart-svc --service svc-a');
    await click(BOSS, own, 'Approve');
    await waitFor(() => answers().some((a) => a.includes('someone else has to approve')), { what: 'the self-approval refusal' });
    await click(MALLORY, own, 'Approve');
    await waitFor(() => answers().some((a) => a.includes('not one of the approvers')), { what: 'the outsider refusal' });
    // A client still showing the buttons (Slack updates are not instant everywhere) can click later.
    const stale = { ...own, blocks: structuredClone(own.blocks) };
    await click(BOSS2, own, 'Deny');
    await waitFor(() => blockText(own.blocks).includes('Denied'), { what: 'the denied message' });
    await click(BOSS2, stale, 'Approve');
    await waitFor(() => answers().some((a) => a.includes('denied already')), { what: 'the approve-after-deny refusal' });

    const soon = await ask(ALICE, 'restart-soon --service svc-a');
    // The buttons as the approver saw them: the sweep may already have marked the message expired.
    const seen = { ...soon, blocks: structuredClone(soon.blocks) };
    await new Promise((r) => setTimeout(r, 1500));
    await click(BOSS, seen, 'Approve');
    await waitFor(() => answers().some((a) => a.includes('expired')), { what: 'the expired refusal' });

    await new Promise((r) => setTimeout(r, 1000));
    expect(runs()).toBe(start);
    const refused = await db.query<{ outcome: string }>("SELECT outcome FROM vigil.audit_events WHERE outcome LIKE 'refused:%' ORDER BY id");
    expect(refused.rows.map((r) => r.outcome)).toEqual(expect.arrayContaining(['refused:own_request', 'refused:not_approver', 'refused:not_pending', 'refused:expired']));
  });

  it('50 concurrent approve clicks run it once', async () => {
    const start = runs();
    const message = await ask(ALICE, 'restart-svc --service svc-a');
    const clicks = await Promise.all(Array.from({ length: 50 }, (_, i) => click(i % 2 ? BOSS : BOSS2, message, 'Approve')));
    expect(clicks.every((c) => c.status === 200)).toBe(true);
    await waitFor(() => blockText(message.blocks).includes('Succeeded'), { timeoutMs: 15_000, what: 'the run' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(runs()).toBe(start + 1);
  });

  it('a four-eyes action needs two different approvers', async () => {
    const start = runs();
    const message = await ask(ALICE, 'restart-two --service svc-a');
    await click(BOSS, message, 'Approve');
    await waitFor(() => blockText(message.blocks).includes('1 of 2'), { what: 'one approval shown' });
    await click(BOSS, message, 'Approve');
    await waitFor(() => answers().some((a) => a.includes('needs 2 different approvers')), { what: 'the same-approver refusal' });
    expect(runs()).toBe(start);
    await click(BOSS2, message, 'Approve');
    await waitFor(() => blockText(message.blocks).includes('Succeeded'), { timeoutMs: 10_000, what: 'the run' });
    expect(runs()).toBe(start + 1);
  });

  it('members of an approver user group may approve, as Slack lists them at click time', async () => {
    const start = runs();
    slack.setUserGroup('S0ONCALL', ['U0CAROL']);
    const message = await ask(ALICE, 'restart-group --service svc-a');
    await click(MALLORY, message, 'Approve');
    await waitFor(() => answers().filter((a) => a.includes('not one of the approvers of restart-group')).length > 0, { what: 'the non-member refusal' });
    await click('U0CAROL', message, 'Approve');
    await waitFor(() => blockText(message.blocks).includes('Succeeded'), { timeoutMs: 10_000, what: 'the run' });
    expect(runs()).toBe(start + 1);
  });

  it('refuses an unknown action, a value outside its enum and injection attempts, storing nothing', async () => {
    const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM vigil.action_requests');
    const unknown = await slash(ALICE, 'drop-database');
    expect(JSON.stringify(unknown.json)).toContain('Unknown action');
    for (const value of ['svc-b', 'svc-a;reboot', '$(id)', "svc-a' || true"]) {
      const res = await slash(ALICE, `restart-svc --service "${value}"`);
      expect(JSON.stringify(res.json)).toMatch(/--service/);
    }
    const after = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM vigil.action_requests');
    expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
  });

  it('a silence takes further --matchers, shown to approvers; malformed ones are refused before anything is stored', async () => {
    const count = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM vigil.action_requests')).rows[0]?.n;
    const before = await count();
    const bad = await slash(ALICE, `silence-alert --alertname ApiDown --duration 1h --reason "noisy staging" --matchers 'env=staging'`);
    expect(JSON.stringify(bad.json)).toContain('silence-alert: matchers: the value of env must be in double quotes');
    expect(await count()).toBe(before);
    const message = await ask(ALICE, `silence-alert --alertname ApiDown --duration 1h --reason "noisy staging" --matchers 'env="staging"'`);
    expect(blockText(message.blocks)).toContain('alertmanager.silence alertname=ApiDown duration=1h comment="noisy staging" matchers="env=\\"staging\\""');
    expect(await count()).toBe((before ?? 0) + 1);
  });

  it('self-service: an approver silencing for up to selfServiceUpTo runs at once, audited; longer, or anyone else, waits for an approver', async () => {
    const requests = async () => (await db.query<{ requested_by: string; state: string; decided_by: string | null; params: { duration: string } }>(
      "SELECT requested_by, state, decided_by, params FROM vigil.action_requests WHERE action = 'silence-self' ORDER BY created_at",
    )).rows;
    const mine = await slash(BOSS, 'silence-self --alertname SelfServed --duration 2h --reason "known noise during the migration"');
    expect(JSON.stringify(mine.json)).toContain('self-service: a silence of up to 2h asked by an approver');
    await waitFor(async () => (await requests())[0]?.state === 'succeeded', { timeoutMs: 10_000, what: 'the self-service silence to run' });
    const silences = (await (await fetch(`${alertmanager.url}/api/v2/silences`)).json()) as Array<{ status: { state: string }; matchers: Array<{ value: string }>; comment: string }>;
    expect(silences.filter((x) => x.status.state === 'active' && x.matchers.some((m) => m.value === 'SelfServed')).map((x) => x.comment)).toEqual(['known noise during the migration']);
    const audit = await db.query<{ outcome: string; details: { selfService?: string; reason: string } }>(
      "SELECT outcome, details FROM vigil.audit_events WHERE kind = 'action.request' AND subject = 'silence-self' ORDER BY id",
    );
    expect(audit.rows[0]).toMatchObject({ outcome: 'approved', details: { selfService: 'self-service: a silence of up to 2h asked by an approver', reason: 'known noise during the migration' } });

    await ask(BOSS, 'silence-self --alertname SelfServed --duration 3h --reason "longer than self-service"');
    await ask(ALICE, 'silence-self --alertname SelfServed --duration 1h --reason "not an approver"');
    expect((await requests()).map((r) => [r.requested_by, r.params.duration, r.state, r.decided_by])).toEqual([
      [BOSS, '2h', 'succeeded', 'self-service: a silence of up to 2h asked by an approver'],
      [BOSS, '3h', 'requested', null],
      [ALICE, '1h', 'requested', null],
    ]);
  });

  it('a request made from the terminal (`vigil run`) reaches the approvals channel through the running bot, and runs once approved', async () => {
    ensureBuilt();
    const before = slack.topLevel(APPROVALS).length;
    const ranBefore = runs();
    const cli = await runNode([join(REPO_ROOT, 'src', 'bin', 'vigil.mjs'), 'run', 'restart-svc', '--service', 'svc-a', '--reason', 'restart from the terminal'], {
      DATABASE_URL: world.testDb.url,
      REDIS_URL: TEST_REDIS_URL,
      VIGIL_CONFIG: bot?.configPath ?? '',
    });
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`waiting for 1 approval(s) in #${APPROVALS}`);
    // Found by its reason: an earlier test's approval message may still be arriving.
    const mine = () => slack.topLevel(APPROVALS).slice(before).find((m) => blockText(m.blocks).includes('restart from the terminal'));
    await waitFor(() => mine() !== undefined, { timeoutMs: 10_000, what: 'the approval message, posted by the bot' });
    const message = mine() as StoredMessage;
    expect((await click(BOSS, message, 'Approve')).status).toBe(200);
    await waitFor(() => runs() === ranBefore + 1 && blockText(message.blocks).includes('Succeeded'), { timeoutMs: 10_000, what: 'the run' });
  });

  it("/queue offers Retry failed; pressing it asks, and once approved the real queue's failed jobs are retried", async () => {
    const queue = new Queue('mails', { connection: { url: TEST_REDIS_URL }, prefix: `${queuePrefix}-inspected` });
    const failer = new Worker('mails', async () => {
      throw new Error('SMTP down');
    }, { connection: { url: TEST_REDIS_URL }, prefix: `${queuePrefix}-inspected` });
    try {
      await queue.add('send', { to: 'a@example.com' });
      await waitFor(async () => (await queue.getFailedCount()) === 1, { what: 'the failed job' });
      await failer.close();

      const res = await postSigned(`${bot?.baseUrl}/slack/events`, signedSlashCommand({ command: '/queue', text: 'mails', user_id: ALICE, user_name: 'alice' }, { signingSecret: ALERT_SIGNING_SECRET }));
      const retry = (res.json?.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string; text?: { text?: string } }> }>)
        .flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []))
        .find((e) => e.text?.text === 'Retry failed (1)');
      if (!retry?.action_id || !retry.value) throw new Error(`no Retry failed button in ${JSON.stringify(res.json)}`);

      const before = slack.topLevel(APPROVALS).length;
      await postSigned(
        `${bot?.baseUrl}/slack/events`,
        signBody(blockActionsBody({ actionId: retry.action_id, value: retry.value, userId: ALICE, userName: 'alice', responseUrl: slack.responseUrl() }), { signingSecret: ALERT_SIGNING_SECRET }),
      );
      await waitFor(() => slack.topLevel(APPROVALS).length > before, { what: 'the approval message' });
      const message = slack.topLevel(APPROVALS)[before] as StoredMessage;
      expect(blockText(message.blocks)).toContain('bullmq.retryFailed queue=mails');
      expect(await queue.getFailedCount()).toBe(1);
      await click(BOSS, message, 'Approve');
      await waitFor(() => blockText(message.blocks).includes('Succeeded'), { timeoutMs: 10_000, what: 'the retry' });
      expect(await queue.getFailedCount()).toBe(0);
      expect(await queue.getWaitingCount()).toBe(1);
    } finally {
      await failer.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('fails closed: with the state database unreachable nothing can be requested, and the user is told why', async () => {
    const down = await startAlertsBot({
      slack,
      databaseUrl: 'postgres://postgres@127.0.0.1:1/nowhere',
      workDir,
      queuePrefix,
      alerts: { channels: { default: 'C0ALERTS' } },
      extra: { actions: { approvalChannel: APPROVALS, catalog: { 'restart-svc': { title: 'Restart', risk: 'high', exec: ['/bin/true'], approvers: { users: [BOSS] } } } } },
    });
    try {
      const before = slack.topLevel(APPROVALS).length;
      const res = await postSigned(`${down.baseUrl}/slack/events`, signedSlashCommand({ command: '/run', text: 'restart-svc', user_id: ALICE }, { signingSecret: ALERT_SIGNING_SECRET }));
      expect(JSON.stringify(res.json)).toMatch(/Cannot request an action: Vigil's state database is not available.*nothing may run unaudited/);
      expect(slack.topLevel(APPROVALS)).toHaveLength(before);
    } finally {
      await down.stop();
    }
  });

  it('an alert message offers its runbook actions and Silence; a silence asks for a reason, is approved, and lands in the real Alertmanager', async () => {
    const res = await fetch(`${bot?.baseUrl}/alerts/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ALERT_WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
      body: readFileSync(new URL('../fixtures/alertmanager/firing-one.json', import.meta.url), 'utf8'),
    });
    expect(res.status).toBe(200);
    await waitFor(() => slack.topLevel('C0ALERTS').length > 0, { what: 'the alert message' });
    const alert = slack.topLevel('C0ALERTS')[0] as StoredMessage;
    const labels = blockText(alert.blocks);
    expect(labels).toContain('Silence 1h');
    expect(labels).toContain('Silence 24h');
    expect(labels).toContain('Restart svc-a');
    expect(labels).not.toContain('Restart the team'); // team=platform is not a service the action takes

    const opened = slack.openedViews.length;
    await click(ALICE, alert, 'Silence 4h');
    await waitFor(() => slack.openedViews.length > opened, { what: 'the reason form' });
    const form = slack.openedViews[opened]?.view as { callback_id: string; private_metadata: string; blocks: Array<{ block_id?: string }> };
    // What it will silence, exactly, then the choice (whole group or one alert) and the reason.
    expect(form.blocks.map((b) => b.block_id)).toEqual([undefined, 'variant', 'reason']);
    expect(JSON.stringify(form.blocks[0])).toContain('alertname=\\"PostgresReplicationLag\\", instance=\\"db-2:9187\\"');

    const before = slack.topLevel(APPROVALS).length;
    const submitted = await postSigned(
      `${bot?.baseUrl}/slack/events`,
      signBody(viewSubmissionBody({ callbackId: form.callback_id, values: { reason: 'deploying the fix for PostgresReplicationLag' }, choices: { variant: 'group' }, userId: ALICE, privateMetadata: form.private_metadata }), {
        signingSecret: ALERT_SIGNING_SECRET,
      }),
    );
    expect(submitted.status).toBe(200);
    await waitFor(() => slack.topLevel(APPROVALS).length > before, { what: 'the silence request' });
    const approval = blockText(slack.topLevel(APPROVALS)[before]?.blocks);
    expect(approval).toContain('alertmanager.silence alertname=PostgresReplicationLag duration=4h');
    expect(approval).toContain('deploying the fix for PostgresReplicationLag');

    const request = slack.topLevel(APPROVALS)[before] as StoredMessage;
    expect((await click(BOSS, request, 'Approve')).status).toBe(200);
    await waitFor(() => blockText(request.blocks).includes('Succeeded'), { timeoutMs: 10_000, what: 'the silence to be created' });
    const silences = (await (await fetch(`${alertmanager.url}/api/v2/silences`)).json()) as Array<{ status: { state: string }; comment: string; createdBy: string; matchers: Array<{ name: string; value: string }>; endsAt: string; startsAt: string }>;
    const active = silences.filter((s) => s.status.state === 'active' && s.matchers.some((m) => m.value === 'PostgresReplicationLag'));
    expect(active).toHaveLength(1);
    // Scoped to the group: its alertname and the instance it runs on, nothing wider.
    expect(active[0]?.matchers.map((m) => [m.name, m.value])).toEqual([
      ['alertname', 'PostgresReplicationLag'],
      ['instance', 'db-2:9187'],
    ]);
    expect(active[0]?.comment).toContain('deploying the fix for PostgresReplicationLag');
    const hours = (Date.parse(active[0]?.endsAt ?? '') - Date.parse(active[0]?.startsAt ?? '')) / 3_600_000;
    expect(hours).toBeCloseTo(4, 1);
  });

  it("an alert's runbook action button requests that action with its parameters", async () => {
    const alert = slack.topLevel('C0ALERTS')[0] as StoredMessage;
    const before = slack.topLevel(APPROVALS).length;
    expect((await click(ALICE, alert, 'Restart svc-a')).status).toBe(200);
    await waitFor(() => slack.topLevel(APPROVALS).length > before, { what: 'the restart request' });
    const approval = blockText(slack.topLevel(APPROVALS)[before]?.blocks);
    expect(approval).toContain('Restart the test service');
    expect(approval).toContain(`node ${join(workDir, 'restart.mjs')}`);
    expect(approval).toContain('svc-a');
  });

  it('/run alone lists the catalog', async () => {
    const res = await slash(ALICE, '');
    const text = JSON.stringify(res.json);
    for (const id of ['restart-svc', 'restart-two', 'restart-group', 'restart-soon']) expect(text).toContain(id);
  });
});
