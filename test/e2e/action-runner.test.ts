/**
 * Privilege separation for deployments that do not run as root (issue 18): the bot, a real
 * process with Slack's secrets in its environment and `actions.runner: separate`, only enqueues;
 * `vigil runner`, another process under another OS user (nobody) with no Slack secret, runs the
 * approved action. The action tries to read the bot's environment and its own parent's: it finds
 * nothing of the bot (another user's /proc/<pid>/environ) and no Slack secret in the runner's.
 * Its result still reaches the approval thread, through the bot's outbox.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { TEST_REDIS_URL } from '../support/env.ts';
import { REPO_ROOT, ensureBuilt } from '../support/run-process.ts';
import { blockText, type StoredMessage } from '../support/slack-api-server.ts';
import { blockActionsBody, postSigned, signBody, signedSlashCommand } from '../support/slack-requests.ts';
import { startVigilProcess, type VigilProcess } from '../support/vigil-process.ts';
import { waitFor } from '../support/wait.ts';

const APPROVALS = 'C0RUNAPPROVE';
const BOSS = 'U0BOSS';
const NOBODY = 65534;
const SIGNING_SECRET = `runner-signing-${randomBytes(12).toString('hex')}`;
const BOT_TOKEN = `xoxb-runner-${randomBytes(12).toString('hex')}`;

let world: BotWorld;
let bot: VigilProcess;
let runner: ChildProcess;
let runnerDir: string;
const runnerOutput: string[] = [];

function configFor(queuePrefix: string): Record<string, unknown> {
  // Reads whichever environment the pid names, then its own parent's (the runner): as sh's $1 and $PPID.
  const script = 'echo "bot:"; tr "\\0" "\\n" < /proc/$1/environ 2>&1 | head -40; echo "runner:"; (tr "\\0" "\\n" < /proc/$PPID/environ) 2>&1 | grep -E "^(SLACK|ALERT)_|Permission denied" || echo "no Slack secret"; echo "parent:"; tr "\\0" " " < /proc/$PPID/cmdline';
  return {
    state: { queuePrefix },
    bullmq: { prefix: `${queuePrefix}-inspected` },
    slack: { outbox: { perSecond: 20, burst: 4 } },
    actions: {
      approvalChannel: APPROVALS,
      runner: 'separate',
      catalog: { peek: { title: 'Read environments', risk: 'high', exec: ['sh', '-c', script, 'sh', '{pid}'], params: { pid: { integer: { min: 1, max: 4194304 } } }, approvers: { users: [BOSS] } } },
    },
  };
}

beforeAll(async () => {
  ensureBuilt();
  world = await createBotWorld('runner');
  const config = configFor(world.queuePrefix);
  bot = await startVigilProcess({
    config,
    workDir: world.workDir,
    env: { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: `${world.slack.url}/api/`, DATABASE_URL: world.testDb.url, REDIS_URL: TEST_REDIS_URL },
  });
  // The runner's own directory, user and environment: no Slack secret at all.
  runnerDir = mkdtempSync(join(tmpdir(), 'vigil-runner-'));
  chmodSync(runnerDir, 0o755);
  chownSync(runnerDir, NOBODY, NOBODY);
  const runnerConfig = join(runnerDir, 'vigil.yaml');
  writeFileSync(runnerConfig, toYaml(config), { mode: 0o644 });
  runner = spawn(process.execPath, [join(REPO_ROOT, 'src', 'bin', 'vigil.mjs'), 'runner'], {
    cwd: runnerDir,
    uid: NOBODY,
    gid: NOBODY,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: runnerDir, DATABASE_URL: world.testDb.url, REDIS_URL: TEST_REDIS_URL, VIGIL_CONFIG: runnerConfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [runner.stdout, runner.stderr]) stream?.on('data', (chunk: Buffer) => runnerOutput.push(chunk.toString('utf8')));
  await waitFor(() => runnerOutput.join('').includes('Runner: ready'), { timeoutMs: 30_000, what: `the runner to start (said: ${runnerOutput.join('')})` });
}, 120_000);

afterAll(async () => {
  if (runner && runner.exitCode === null) {
    const exited = new Promise((resolve) => runner.once('exit', resolve));
    runner.kill('SIGTERM');
    await exited;
  }
  await bot?.stop();
  await world?.close();
  if (runnerDir) rmSync(runnerDir, { recursive: true, force: true });
});

describe('approved actions run by `vigil runner`, a process of its own', () => {
  it('runs the approved action once, out of reach of the bot\'s secrets, and reports in the thread through the bot', { timeout: 60_000 }, async () => {
    const ask = signedSlashCommand({ command: '/run', text: `peek --pid ${bot.pid}`, user_id: 'U0ALICE', user_name: 'alice', response_url: world.slack.responseUrl('ask') }, { signingSecret: SIGNING_SECRET });
    expect((await postSigned(`${bot.baseUrl}/slack/events`, ask)).status).toBe(200);
    await waitFor(() => world.slack.topLevel(APPROVALS).length === 1, { timeoutMs: 15_000, what: 'the approval message' });
    const message = world.slack.topLevel(APPROVALS)[0] as StoredMessage;
    const approve = (message.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string; text?: { text?: string } }> }>)
      .flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []))
      .find((e) => e.text?.text === 'Approve');
    if (!approve?.action_id || !approve.value) throw new Error(`no Approve button on ${blockText(message.blocks)}`);
    const click = blockActionsBody({ actionId: approve.action_id, value: approve.value, userId: BOSS, userName: 'boss', channelId: APPROVALS, messageTs: message.ts, responseUrl: world.slack.responseUrl('approve') });
    expect((await postSigned(`${bot.baseUrl}/slack/events`, signBody(click, { signingSecret: SIGNING_SECRET }))).status).toBe(200);

    await waitFor(() => world.slack.replies(APPROVALS, message.ts).some((r) => `${r.text}${blockText(r.blocks)}`.includes('runner:')), { timeoutMs: 20_000, what: 'the result in the thread' });
    const result = world.slack.replies(APPROVALS, message.ts).map((r) => `${r.text}\n${blockText(r.blocks)}`).join('\n');
    // The bot's environment belongs to root: the action, as nobody, cannot read it…
    expect(result).toContain('Permission denied');
    expect(result).not.toContain(SIGNING_SECRET);
    expect(result).not.toContain(BOT_TOKEN.slice(5));
    // …and the runner's own has no Slack secret to give away (or, when the runner changed its user at
    // start and so is not dumpable, the action cannot even read it). Its error goes down the pipe,
    // in order, not wherever stderr lands.
    expect(result).toMatch(/runner:\n(no Slack secret|.*Permission denied)\n/);
    // The runner ran it (its parent is `vigil runner`), once; the bot did not.
    expect(result).toMatch(/parent:\n\S*node \S*vigil\.mjs runner/);
    const { rows } = await world.db.query("SELECT kind, outcome FROM vigil.audit_events WHERE kind IN ('action.start', 'action.end') ORDER BY id");
    expect(rows).toEqual([
      { kind: 'action.start', outcome: 'running' },
      { kind: 'action.end', outcome: 'succeeded' },
    ]);
  });
});
