/**
 * A worker killed with SIGKILL in the middle of an action: the bot is a process of its own, the
 * test kills it while the action runs, and the next bot reports the request as interrupted in the
 * approval thread and never runs it again.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { ALERT_SIGNING_SECRET, alertsBotEnv, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { blockText, type SlackApiServer } from '../support/slack-api-server.ts';
import { blockActionsBody, postSigned, signBody, signedSlashCommand } from '../support/slack-requests.ts';
import { startVigilProcess, type VigilProcess } from '../support/vigil-process.ts';
import { waitFor } from '../support/wait.ts';

const APPROVALS = 'C0APPROVALS';
let world: BotWorld;
let slack: SlackApiServer;
let db: pg.Pool;
let workDir: string;
let queuePrefix: string;
let child: VigilProcess | null = null;
let bot: AlertsBot | null = null;
let script: string;
let runsFile: string;

const catalog = () => ({
  approvalChannel: APPROVALS,
  // Its script and runs file live in the test's 0700 temp dir: run as root on purpose (the
  // default, nobody, is tested in action-run-as.test.ts).
  runAs: 'root',
  catalog: { slow: { title: 'A slow job', risk: 'high', exec: ['node', script, runsFile], approvers: { users: ['U0BOSS'] }, timeout: '2m' } },
});

beforeAll(async () => {
  world = await createBotWorld('actions_kill');
  ({ slack, db, workDir, queuePrefix } = world);
  script = join(workDir, 'slow-action.mjs');
  runsFile = join(workDir, 'runs.log');
  await writeFile(script, "import { appendFileSync } from 'node:fs'; appendFileSync(process.argv[2], 'run\\n'); setTimeout(() => {}, 60_000);\n");
});

afterAll(async () => {
  await child?.stop();
  await bot?.stop();
  // The action's own process outlives the killed bot (its process group is its own).
  try {
    execFileSync('pkill', ['-f', script]);
  } catch {
    // none left
  }
  await world.close();
});

describe('a worker killed mid-run', () => {
  it('leaves the request interrupted, reported in the thread, and never runs it again', async () => {
    child = await startVigilProcess({
      config: { state: { queuePrefix }, bullmq: { prefix: `${queuePrefix}-inspected` }, actions: catalog() },
      env: alertsBotEnv({ slack, databaseUrl: world.testDb.url }),
      workDir,
    });
    const events = `${child.baseUrl}/slack/events`;
    await postSigned(events, signedSlashCommand({ command: '/run', text: 'slow', user_id: 'U0ALICE', user_name: 'alice' }, { signingSecret: ALERT_SIGNING_SECRET }));
    const requested = await waitFor(async () => (await db.query<{ id: string }>("SELECT id FROM vigil.action_requests WHERE state = 'requested'")).rows[0]?.id ?? '', { what: 'the request' });
    await postSigned(events, signBody(blockActionsBody({ actionId: 'actions.approve#0', value: requested, userId: 'U0BOSS', userName: 'boss', responseUrl: slack.responseUrl() }), { signingSecret: ALERT_SIGNING_SECRET }));
    await waitFor(async () => (await db.query<{ state: string }>('SELECT state FROM vigil.action_requests WHERE id = $1', [requested])).rows[0]?.state === 'running', { what: 'the run to start' });
    await waitFor(() => existsSync(runsFile), { what: 'the action to begin' });

    process.kill(child.pid, 'SIGKILL');
    await child.stop();
    child = null;

    bot = await startAlertsBot({ slack, databaseUrl: world.testDb.url, workDir, queuePrefix, alerts: { channels: { default: 'C0ALERTS' } }, extra: { actions: catalog() } });
    await waitFor(async () => (await db.query<{ state: string }>('SELECT state FROM vigil.action_requests WHERE id = $1', [requested])).rows[0]?.state === 'interrupted', {
      timeoutMs: 40_000,
      intervalMs: 250,
      what: 'the request marked interrupted',
    });
    const message = slack.topLevel(APPROVALS)[0];
    if (!message) throw new Error('no approval message');
    await waitFor(() => slack.replies(APPROVALS, message.ts).some((r) => r.text.includes('Interrupted')), { what: 'the thread reply' });
    await waitFor(() => blockText(message.blocks).includes('Interrupted'), { what: 'the message showing it' });
    // A few sweeps later: still one run, never started again.
    await new Promise((r) => setTimeout(r, 6000));
    expect(readFileSync(runsFile, 'utf8').trim().split('\n')).toEqual(['run']);
    const audit = await db.query<{ outcome: string }>("SELECT outcome FROM vigil.audit_events WHERE kind = 'action.end' AND request_id = $1", [requested]);
    expect(audit.rows).toEqual([{ outcome: 'interrupted' }]);
  }, 90_000);
});

describe('a worker stopped with SIGTERM mid-run', () => {
  it('gives the run its grace, then aborts it (its process group too) and records it failed, stopped by the shutdown', async () => {
    await bot?.stop();
    bot = null;
    // The previous test's action outlived its killed bot on purpose; it is not this one's.
    try {
      execFileSync('pkill', ['-f', script]);
    } catch {
      // none left
    }
    const before = readFileSync(runsFile, 'utf8');
    child = await startVigilProcess({
      config: { state: { queuePrefix }, bullmq: { prefix: `${queuePrefix}-inspected` }, actions: catalog() },
      env: alertsBotEnv({ slack, databaseUrl: world.testDb.url }),
      workDir,
    });
    const events = `${child.baseUrl}/slack/events`;
    await postSigned(events, signedSlashCommand({ command: '/run', text: 'slow', user_id: 'U0ALICE', user_name: 'alice' }, { signingSecret: ALERT_SIGNING_SECRET }));
    const requested = await waitFor(async () => (await db.query<{ id: string }>("SELECT id FROM vigil.action_requests WHERE state = 'requested'")).rows[0]?.id ?? '', { what: 'the request' });
    await postSigned(events, signBody(blockActionsBody({ actionId: 'actions.approve#0', value: requested, userId: 'U0BOSS', userName: 'boss', responseUrl: slack.responseUrl() }), { signingSecret: ALERT_SIGNING_SECRET }));
    await waitFor(() => readFileSync(runsFile, 'utf8').length > before.length, { what: 'the action to begin' });

    const started = Date.now();
    expect(await child.stop()).toBe('exited with code 0');
    const stopMs = Date.now() - started;
    child = null;
    // The 10 s grace, then the abort: well inside the 30 s watchdog.
    expect(stopMs).toBeGreaterThan(9_000);
    expect(stopMs).toBeLessThan(20_000);
    const row = await db.query<{ state: string; summary: string }>('SELECT state, summary FROM vigil.action_requests WHERE id = $1', [requested]);
    expect(row.rows[0]?.state).toBe('failed');
    expect(row.rows[0]?.summary).toContain('Stopped: Vigil shut down before the run finished.');
    const audit = await db.query<{ outcome: string }>("SELECT outcome FROM vigil.audit_events WHERE kind = 'action.end' AND request_id = $1", [requested]);
    expect(audit.rows).toEqual([{ outcome: 'failed' }]);
    // The action's process was stopped with its group, not left running.
    expect(() => execFileSync('pgrep', ['-f', `${script} ${runsFile}`])).toThrow();
  }, 60_000);
});
