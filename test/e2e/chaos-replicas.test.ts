/**
 * Three replicas of the real bot (`node dist/main.js`, each its own process) on one Postgres and
 * one Redis, under an alert storm and a stream of Approve clicks, while things break in turn:
 * Redis is killed and comes back empty (no persistence), then a replica is killed with SIGKILL,
 * then Slack loses its answers to some posts and fails every write for a few seconds.
 * Alertmanager's webhooks and the clicks go to whichever replica answers, as a load balancer
 * would send them.
 *
 * What must hold: every group is shown exactly once and ends resolved; the approved action runs
 * exactly once; every click is answered; every command a replica acknowledged is audited; no
 * request Slack would punish; the audit chain verifies.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/chain.ts';
import { ALERT_SIGNING_SECRET, ALERT_WEBHOOK_TOKEN, alertsBotEnv } from '../support/alerts-bot.ts';
import { oneAlertWebhook } from '../support/alertmanager-webhook.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { killableRedis, type KillableRedis } from '../support/killable-redis.ts';
import { blockText, type StoredMessage } from '../support/slack-api-server.ts';
import { buttonOn } from '../support/slack-answers.ts';
import { blockActionsBody, postSigned, signBody, signedSlashCommand } from '../support/slack-requests.ts';
import { startVigilProcess, type VigilProcess } from '../support/vigil-process.ts';
import { sleep, waitFor } from '../support/wait.ts';

const ALERTS = 'C0CHAOSALERTS';
const APPROVALS = 'C0CHAOSAPPROVE';
const ASKER = 'U0CHAOSASK';
const APPROVER = 'U0CHAOSBOSS';
const GROUPS_PER_PHASE = 10;
const PHASES = ['calm', 'redis-killed', 'replica-killed'] as const;

let world: BotWorld;
let redis: KillableRedis;
let runsFile: string;
const replicas: (VigilProcess | null)[] = [];
let turn = 0;

/** The next live replica, round robin; a dead one is skipped as a load balancer would. */
async function toAnyReplica(path: string, init: () => RequestInit): Promise<Response> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const live = replicas.filter((r): r is VigilProcess => r !== null);
    const target = live[turn++ % live.length] as VigilProcess;
    const res = await fetch(`${target.baseUrl}${path}`, init()).catch(() => null);
    if (res && res.status < 500) return res;
    if (Date.now() > deadline) throw new Error(`no replica took ${path} within 30 s (last: ${res?.status ?? 'no answer'})`);
    await sleep(200);
  }
}

async function notify(name: string, status: 'firing' | 'resolved', startsAt: string): Promise<void> {
  const body = JSON.stringify(oneAlertWebhook(name, status, { startsAt, summary: `${name} is down` }));
  const res = await toAnyReplica('/alerts/alertmanager', () => ({ method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_WEBHOOK_TOKEN}` }, body }));
  expect(res.status).toBe(200);
}

/** An Approve click (the button as approvers saw it first) at whichever replica answers; resolves with its HTTP status. */
async function approve(message: StoredMessage, button: { action_id: string; value: string }): Promise<number> {
  const body = blockActionsBody({ actionId: button.action_id, value: button.value, userId: APPROVER, userName: 'boss', channelId: APPROVALS, messageTs: message.ts, responseUrl: world.slack.responseUrl() });
  const res = await toAnyReplica('/slack/events', () => {
    const signed = signBody(body, { signingSecret: ALERT_SIGNING_SECRET });
    return { method: 'POST', headers: signed.headers, body: signed.body };
  });
  return res.status;
}

async function startReplica(): Promise<VigilProcess> {
  return startVigilProcess({
    workDir: world.workDir,
    config: {
      alerts: { channels: { default: ALERTS }, storm: { perMinute: 1000, summaryEverySeconds: 30 } },
      state: { queuePrefix: world.queuePrefix },
      bullmq: { prefix: `${world.queuePrefix}-inspected` },
      slack: { outbox: { perSecond: 20, burst: 4 } },
      actions: {
        approvalChannel: APPROVALS,
        // A file in the test's own 0700 directory: run as root on purpose (nobody is tested elsewhere).
        runAs: 'root',
        catalog: { 'mark-run': { title: 'Mark a run', risk: 'high', exec: ['node', join(world.workDir, 'mark.mjs'), runsFile], approvers: { users: [APPROVER] } } },
      },
    },
    env: alertsBotEnv({ slack: world.slack, databaseUrl: world.testDb.url, redisUrl: redis.url }),
  });
}

/** `/alerts` as `user`, at whichever replica answers. */
async function alertsCommand(user: string): Promise<{ user: string; status: number }> {
  const res = await toAnyReplica('/slack/events', () => {
    const signed = signedSlashCommand({ command: '/alerts', text: '', user_id: user, user_name: user.toLowerCase(), response_url: world.slack.responseUrl() }, { signingSecret: ALERT_SIGNING_SECRET });
    return { method: 'POST', headers: signed.headers, body: signed.body };
  });
  return { user, status: res.status };
}

let commandAuthorsSeen: string[] = [];
async function commandAuthors(): Promise<string[]> {
  const { rows } = await world.db.query<{ actor_id: string }>("SELECT actor_id FROM vigil.audit_events WHERE kind = 'command' AND subject = 'alerts'");
  commandAuthorsSeen = rows.map((r) => r.actor_id);
  return commandAuthorsSeen;
}

/** For a failure: what Postgres holds about groups never shown resolved, and what the replicas warned. */
async function whereStuck(stuck: string[]): Promise<string> {
  const lines: string[] = [];
  for (const name of stuck) {
    const { rows: groups } = await world.db.query<{ group_id: string; status: string; epoch: number; version: number; message_key: string | null }>(
      "SELECT group_id, status, epoch, version, message_key FROM vigil.alert_groups WHERE state->'commonLabels'->>'alertname' = $1",
      [name],
    );
    const messages = shownAlerts().filter((m) => blockText(m.blocks).includes(`${name} is down`));
    lines.push(`${name}: ${messages.length} message(s) in Slack; group ${JSON.stringify(groups)}`);
    const { rows: notes } = await world.db.query(
      "SELECT id, payload->>'status' AS status, received_at, processed_at, attempts, last_error FROM vigil.alert_notifications WHERE payload::text LIKE $1 ORDER BY id",
      [`%${name}%`],
    );
    lines.push(`  notifications ${JSON.stringify(notes)}`);
    for (const g of groups) {
      const { rows: out } = await world.db.query("SELECT key, op, created_at, finished_at FROM vigil.outbox_messages WHERE key LIKE $1 ORDER BY seq", [`alert:${g.group_id}:%`]);
      lines.push(`  outbox ${JSON.stringify(out)}`);
    }
  }
  for (const [i, r] of replicas.entries()) lines.push(`replica ${i}: ${r ? r.warnings.slice(-8).map((w) => w.line).join('\n  ') : 'killed'}`);
  return lines.join('\n');
}

const shownAlerts = () => world.slack.topLevel(ALERTS);
const runs = () => (existsSync(runsFile) ? readFileSync(runsFile, 'utf8').split('\n').filter(Boolean).length : 0);

beforeAll(async () => {
  world = await createBotWorld('chaos');
  runsFile = join(world.workDir, 'runs.log');
  await writeFile(join(world.workDir, 'mark.mjs'), "import { appendFileSync } from 'node:fs';\nappendFileSync(process.argv[2], `${process.pid}\\n`);\n");
  redis = await killableRedis(world.workDir);
  await redis.start();
  for (let i = 0; i < 3; i++) replicas.push(await startReplica());
}, 120_000);

afterAll(async () => {
  for (const r of replicas) await r?.stop();
  await redis?.kill();
  await world?.close();
});

describe('three replicas while Redis, a replica and Slack fail in turn', () => {
  it('shows every group once and resolved, runs the approved action once, answers every click and audits every command', { timeout: 150_000 }, async () => {
    const asked = await postSigned(
      `${replicas[0]?.baseUrl}/slack/events`,
      signedSlashCommand({ command: '/run', text: 'mark-run', user_id: ASKER, user_name: 'asker', response_url: world.slack.responseUrl() }, { signingSecret: ALERT_SIGNING_SECRET }),
    );
    expect(asked.status).toBe(200);
    await waitFor(() => world.slack.topLevel(APPROVALS).length === 1, { what: `the approval message (answer: ${JSON.stringify(asked.json)})` });
    const approval = world.slack.topLevel(APPROVALS)[0] as StoredMessage;
    const button = buttonOn(approval, 'Approve');

    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const names: string[] = [];
    const clicks: Promise<number>[] = [];
    const commands: Promise<{ user: string; status: number }>[] = [];
    const storm = async (phase: string) => {
      const batch = Array.from({ length: GROUPS_PER_PHASE }, (_, i) => `Chaos_${phase.replace('-', '_')}_${i}`);
      names.push(...batch);
      for (let i = 0; i < 3; i++) clicks.push(approve(approval, button));
      for (let i = 0; i < 3; i++) commands.push(alertsCommand(`U0CMD${phase.replace('-', '').toUpperCase().slice(0, 8)}${i}`));
      await Promise.all(batch.map((name) => notify(name, 'firing', startsAt)));
    };

    // Each fault strikes while its phase's notifications and clicks are in flight.
    for (const phase of PHASES) {
      // Slack refuses posts for a moment first, so messages wait in Redis when it dies (and are lost with it).
      if (phase === 'redis-killed') world.slack.inject({ method: 'chat.postMessage', status: 500, forMs: 1500 });
      const inFlight = storm(phase);
      await sleep(phase === 'redis-killed' ? 800 : 150);
      if (phase === 'redis-killed') await redis.kill();
      if (phase === 'replica-killed') {
        process.kill((replicas[2] as VigilProcess).pid, 'SIGKILL');
        replicas[2] = null;
      }
      await inFlight;
      if (phase === 'redis-killed') {
        await sleep(3000);
        await redis.start();
      }
    }

    // Slack loses its answers to the next posts (done, but Vigil never hears so), then fails every
    // write for a few seconds while the last groups fire and the whole storm resolves.
    world.slack.inject({ method: 'chat.postMessage', lostAnswer: true, count: 3 });
    await storm('slack-failing');
    world.slack.inject({ method: 'chat.postMessage', status: 500, forMs: 4000 });
    world.slack.inject({ method: 'chat.update', status: 500, forMs: 4000 });
    await Promise.all(names.map((name) => notify(name, 'resolved', startsAt)));

    const about = (name: string) => shownAlerts().filter((m) => blockText(m.blocks).includes(`${name} is down`));
    const unresolved = () => names.filter((n) => !blockText(about(n)[0]?.blocks).includes('RESOLVED'));
    await waitFor(() => unresolved().length === 0, { timeoutMs: 90_000, intervalMs: 500, what: 'every group shown and resolved' }).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; not shown resolved: ${unresolved().join(', ')}\n${await whereStuck(unresolved())}`);
    });
    for (const name of names) expect(about(name), name).toHaveLength(1);
    expect(shownAlerts()).toHaveLength(names.length);

    const statuses = await Promise.all(clicks);
    expect(statuses.every((s) => s === 200)).toBe(true);
    await waitFor(() => runs() >= 1 && blockText(approval.blocks).includes('Succeeded'), { timeoutMs: 30_000, what: `the action's run and its result (approval shows: ${blockText(approval.blocks)})` });
    await sleep(2000);
    expect(runs()).toBe(1);
    const { rows } = await world.db.query<{ kind: string; n: number }>("SELECT kind, count(*)::int AS n FROM vigil.audit_events WHERE kind IN ('action.approve', 'action.start', 'action.end') AND outcome <> 'refused' GROUP BY kind ORDER BY kind");
    expect(rows).toEqual([
      { kind: 'action.approve', n: expect.any(Number) },
      { kind: 'action.end', n: 1 },
      { kind: 'action.start', n: 1 },
    ]);
    // Every command a replica acknowledged is in the audit trail, even on the replica killed.
    const acked = (await Promise.all(commands)).filter((c) => c.status === 200).map((c) => c.user);
    expect(acked).toHaveLength(commands.length);
    await waitFor(async () => (await commandAuthors()).length >= acked.length, { timeoutMs: 15_000, what: 'an audit event for every acknowledged command' }).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; not audited: ${acked.filter((u) => !(commandAuthorsSeen as string[]).includes(u)).join(', ')}`);
    });
    expect((await commandAuthors()).sort()).toEqual([...acked].sort());

    expect(world.slack.violations).toEqual([]);
    expect(await verifyAuditChain(world.db)).toMatchObject({ ok: true });
  });
});
