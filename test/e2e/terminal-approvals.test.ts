/**
 * The terminal as a first-class front door beside a running Slack bot: `vigil run` by a mapped
 * terminal user posts the approval message in Slack through the bot; `vigil approve` by another
 * mapped approver runs it once; by the requester, by an unmapped user, or twice, it is refused
 * (exit 77) and audited. The CLI runs as operators run it: the built `vigil` binary, in a process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { TEST_REDIS_URL } from '../support/env.ts';
import { blockText, type StoredMessage } from '../support/slack-api-server.ts';
import { waitFor } from '../support/wait.ts';
import { REPO_ROOT, ensureBuilt, runNode, type ProcessRun } from '../support/run-process.ts';

const APPROVALS = 'C0APPROVALS';
const BOSS = 'U0BOSS';
const BOSS2 = 'U0BOSS2';

let world: BotWorld;
let bot: AlertsBot;
let runsFile: string;

const runs = () => (existsSync(runsFile) ? readFileSync(runsFile, 'utf8').split('\n').filter(Boolean).length : 0);

/** `vigil <args>` as `user` (VIGIL_USER), beside the bot: same database, Redis and config file. */
function vigil(user: string, ...args: string[]): Promise<ProcessRun> {
  return runNode([join(REPO_ROOT, 'src', 'bin', 'vigil.mjs'), ...args], {
    DATABASE_URL: world.testDb.url,
    REDIS_URL: TEST_REDIS_URL,
    VIGIL_CONFIG: bot.configPath,
    VIGIL_USER: user,
  });
}

async function auditRows(requestId: string): Promise<Array<{ actor_id: string; kind: string; outcome: string }>> {
  const { rows } = await world.db.query('SELECT actor_id, kind, outcome FROM vigil.audit_events WHERE request_id = $1 ORDER BY id', [requestId]);
  return rows;
}

beforeAll(async () => {
  ensureBuilt();
  world = await createBotWorld('terminal_approvals');
  runsFile = join(world.workDir, 'runs.log');
  await writeFile(join(world.workDir, 'record.mjs'), "import { appendFileSync } from 'node:fs';\nappendFileSync(process.argv[2], 'ran\\n');\nconsole.log('recorded');\n");
  bot = await startAlertsBot({
    slack: world.slack,
    databaseUrl: world.testDb.url,
    workDir: world.workDir,
    queuePrefix: world.queuePrefix,
    alerts: { channels: { default: 'C0ALERTS' } },
    extra: {
      actions: {
        approvalChannel: APPROVALS,
        // The script sits in the test's 0700 work dir: run as root on purpose (see action-run-as.test.ts).
        runAs: 'root',
        catalog: {
          'restart-api': { title: 'Restart the API', risk: 'high', exec: ['node', join(world.workDir, 'record.mjs'), runsFile], approvers: { users: [BOSS, BOSS2] } },
          'restart-guarded': { title: 'Restart, on-call asks', risk: 'high', exec: ['true'], approvers: { users: [BOSS] }, requesters: { users: [BOSS2] } },
        },
      },
      access: { terminalUsers: { boss: BOSS, boss2: BOSS2 } },
    },
  });
}, 120_000);

afterAll(async () => {
  await bot?.stop();
  await world?.close();
});

describe('approvals from the terminal, beside a running Slack bot', () => {
  it('run by a mapped user posts the approval in Slack; approve by the requester is refused, by another approver runs it once', async () => {
    const before = world.slack.topLevel(APPROVALS).length;
    const asked = await vigil('boss2', 'run', 'restart-api', '--reason', 'deploy stuck', '--json');
    expect(asked.stderr).toBe('');
    expect(asked.code).toBe(0);
    const { request } = JSON.parse(asked.stdout) as { request: string };
    const mine = () => world.slack.topLevel(APPROVALS).slice(before).find((m) => blockText(m.blocks).includes(request));
    await waitFor(() => mine() !== undefined, { timeoutMs: 10_000, what: 'the approval message, posted by the bot' });
    const message = mine() as StoredMessage;
    expect(blockText(message.blocks)).toContain(`npx vigil approve ${request}`);

    // The pending list shows it, to anyone who may run /approve.
    const listed = await vigil('boss', 'approve', '--json');
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((p) => p.id)).toContain(request);

    const own = await vigil('boss2', 'approve', request);
    expect(own.code).toBe(77);
    expect(own.stdout).toContain('You asked for this action, so someone else has to approve it.');
    const stranger = await vigil('eve', 'approve', request);
    expect(stranger.code).toBe(77);
    expect(stranger.stdout).toContain('not one of the approvers');
    expect(runs()).toBe(0);

    const approved = await vigil('boss', 'approve', request);
    expect(approved.stdout).toContain('Approved: restart-api runs now');
    expect(approved.code).toBe(0);
    await waitFor(() => runs() === 1 && blockText(message.blocks).includes('Succeeded'), { timeoutMs: 15_000, what: 'the run, reported on the approval message' });

    const again = await vigil('boss', 'approve', request);
    expect(again.code).toBe(77);
    await new Promise((r) => setTimeout(r, 500));
    expect(runs()).toBe(1);
    const rows = await auditRows(request);
    expect(rows.filter((r) => r.kind === 'action.approve').map((r) => [r.actor_id, r.outcome])).toEqual([
      [BOSS2, 'refused:own_request'],
      ['eve', 'refused:not_approver'],
      [BOSS, 'approved'],
      [BOSS, 'refused:not_pending'],
    ]);
    expect(rows.find((r) => r.kind === 'action.request')?.actor_id).toBe(BOSS2);
  });

  it('a terminal user outside an action\'s requesters is refused, nothing is posted, and the refusal is audited', async () => {
    const before = world.slack.topLevel(APPROVALS).length;
    const refused = await vigil('eve', 'run', 'restart-guarded', '--reason', 'why not');
    expect(refused.code).toBe(77);
    expect(refused.stdout).toContain('Requesting restart-guarded is for @U0BOSS2');
    const allowed = await vigil('boss2', 'run', 'restart-guarded', '--reason', 'on call', '--json');
    expect(allowed.code).toBe(0);
    await waitFor(() => world.slack.topLevel(APPROVALS).length === before + 1, { timeoutMs: 10_000, what: "the requester's approval message" });
    expect(blockText(world.slack.topLevel(APPROVALS)[before]?.blocks)).toContain('on call');
    const { rows } = await world.db.query(
      "SELECT actor_id, outcome, details->>'rule' AS rule FROM vigil.audit_events WHERE kind = 'action.request' AND subject = 'restart-guarded' ORDER BY id",
    );
    expect(rows).toEqual([
      { actor_id: 'eve', outcome: 'refused', rule: 'actions.catalog.restart-guarded.requesters' },
      { actor_id: BOSS2, outcome: 'requested', rule: null },
    ]);
  });
});
