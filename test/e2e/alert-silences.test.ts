/**
 * Silences with a real Alertmanager (group_by [alertname, env]) posting to the real bot: a
 * silence made elsewhere (as amtool makes it) shows on the group's message, escalation skips the
 * silenced group and not its unsilenced sibling, and Unsilence on the message expires the silence
 * in Alertmanager, after which the thread says so with the mention.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort } from '../../src/embedded/free-port.ts';
import { startAlertmanager, type Alertmanager } from '../support/alertmanager.ts';
import { ALERT_SIGNING_SECRET, ALERT_WEBHOOK_TOKEN, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { blockText, startSlackApiServer, type SlackApiServer, type StoredMessage } from '../support/slack-api-server.ts';
import { blockActionsBody, postSigned, signBody, viewSubmissionBody } from '../support/slack-requests.ts';
import { waitFor } from '../support/wait.ts';

const CRIT = 'C0SILCRIT';
const ESC = 'C0SILESC';
const APPROVALS = 'C0SILAPPROVE';
const ALICE = 'U0ALICE';
const BOSS = 'U0BOSS';

let slack: SlackApiServer;
let testDb: TestDatabase;
let db: pg.Pool;
let workDir: string;
let queuePrefix: string;
let bot: AlertsBot | null = null;
let am: Alertmanager;

const shown = (m: StoredMessage | undefined) => (m ? blockText(m.blocks) : '');
const about = (channel: string, env: string) => slack.topLevel(channel).filter((m) => shown(m).includes('SilApiDown') && shown(m).includes(`API down in ${env}`));

function click(user: string, message: StoredMessage, label: string) {
  const button = (message.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string; text?: { text?: string } }> }>)
    .flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []))
    .find((e) => e.text?.text === label);
  if (!button?.action_id || !button.value) throw new Error(`no ${label} button on ${blockText(message.blocks)}`);
  const body = blockActionsBody({ actionId: button.action_id, value: button.value, userId: user, userName: user.toLowerCase(), channelId: CRIT, messageTs: message.ts, responseUrl: slack.responseUrl() });
  return postSigned(`${bot?.baseUrl}/slack/events`, signBody(body, { signingSecret: ALERT_SIGNING_SECRET }));
}

interface AmSilence {
  id: string;
  status: { state: string };
}
const silences = async () => (await (await fetch(`${am.url}/api/v2/silences`)).json()) as AmSilence[];

beforeAll(async () => {
  slack = await startSlackApiServer({ perChannelPerSecond: 25, burst: 5 });
  testDb = await createTestDatabase('am_silences');
  db = new pg.Pool({ connectionString: testDb.url, max: 2 });
  workDir = await mkdtemp(join(tmpdir(), 'vigil-silences-'));
  queuePrefix = uniqueName('silences');
  const port = await freePort();
  am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${port}/alerts/alertmanager`, bearerToken: ALERT_WEBHOOK_TOKEN, groupBy: ['alertname', 'env'] });
  bot = await startAlertsBot({
    slack,
    databaseUrl: testDb.url,
    workDir,
    queuePrefix,
    port,
    env: { ALERTMANAGER_URL: am.url },
    alerts: {
      channels: { critical: CRIT, default: CRIT },
      mentions: { critical: 'S0ONCALL' },
      // 12 s: long enough for a silence made right after the post to be seen first.
      escalation: { channel: ESC, afterMinutes: 0.2, mention: 'S0ESCAL' },
    },
    extra: {
      actions: {
        approvalChannel: APPROVALS,
        catalog: {
          'silence-alert': { title: 'Silence an alert', risk: 'low', builtin: 'alertmanager.silence', approvers: { users: [BOSS] } },
          unsilence: { title: 'Expire a silence', risk: 'low', builtin: 'alertmanager.expireSilence', approval: 'none' },
        },
      },
    },
  });
});

afterAll(async () => {
  await am?.stop();
  await bot?.stop();
  await slack?.close();
  await db?.end();
  await testDb?.drop();
  await rm(workDir, { recursive: true, force: true });
  const redis = new Redis(TEST_REDIS_URL);
  await deleteKeysUnder(redis, queuePrefix);
  redis.disconnect();
});

describe('silences shown on the message', () => {
  it('shows a silence made in Alertmanager, escalates only the unsilenced group, and Unsilence expires it', async () => {
    const alert = (env: string) => ({ labels: { alertname: 'SilApiDown', severity: 'critical', env, instance: `api-${env}` }, annotations: { summary: `API down in ${env}` } });
    await am.pushAlerts([alert('staging'), alert('prod')]);
    await waitFor(() => about(CRIT, 'staging').length === 1 && about(CRIT, 'prod').length === 1, { timeoutMs: 15_000, what: `both groups posted (${slack.topLevel(CRIT).map((m) => shown(m)).join('\n---\n')})` });
    const staging = about(CRIT, 'staging')[0] as StoredMessage;
    const prod = about(CRIT, 'prod')[0] as StoredMessage;

    // As amtool would: `amtool silence add alertname=SilApiDown env=staging -c "staging deploy"`.
    const res = await fetch(`${am.url}/api/v2/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        matchers: [
          { name: 'alertname', value: 'SilApiDown', isRegex: false, isEqual: true },
          { name: 'env', value: 'staging', isRegex: false, isEqual: true },
        ],
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        createdBy: 'amtool-bob',
        comment: 'staging deploy',
      }),
    });
    expect(res.status).toBe(200);
    const silenceId = ((await res.json()) as { silenceID: string }).silenceID;

    const silencedAt = Date.now();
    await waitFor(() => shown(staging).includes('Silenced in Alertmanager by amtool-bob'), { timeoutMs: 10_000, what: 'the silenced staging message' });
    expect(Date.now() - silencedAt).toBeLessThan(10_000);
    expect(shown(staging)).toContain('“staging deploy” (alertname="SilApiDown", env="staging")');
    expect(shown(staging)).toMatch(/^Unsilence$/m);
    expect(shown(staging)).not.toMatch(/^Silence 1h$/m);
    expect(shown(prod)).not.toContain('Silenced');
    expect(shown(prod)).toMatch(/^Silence 1h$/m);

    // Escalation: the unacknowledged prod group is copied with the mention; the silenced one is not.
    const copies = (env: string) => slack.topLevel(ESC).filter((m) => shown(m).includes(`API down in ${env}`));
    await waitFor(() => copies('prod').length === 1, { timeoutMs: 25_000, what: 'the prod escalation' });
    await new Promise((r) => setTimeout(r, 5500)); // one more housekeeping tick
    expect(copies('staging')).toEqual([]);
    expect(slack.replies(CRIT, staging.ts)).toEqual([]);

    // Unsilence (approval: none here) expires it in Alertmanager; the thread says the silence ended, with the mention.
    expect((await click(ALICE, staging, 'Unsilence')).status).toBe(200);
    await waitFor(async () => (await silences()).find((s) => s.id === silenceId)?.status.state === 'expired', { timeoutMs: 10_000, what: 'the silence expired in Alertmanager' });
    await waitFor(() => !shown(staging).includes('Silenced in'), { timeoutMs: 10_000, what: 'the staging message without its silence' });
    await waitFor(() => slack.replies(CRIT, staging.ts).some((r) => r.text.includes('<!subteam^S0ONCALL>') && r.text.includes('silence ended')), { timeoutMs: 10_000, what: 'the thread reply' });
    expect(shown(staging)).toMatch(/^Silence 1h$/m);
    const audit = await db.query<{ kind: string; actor_id: string }>("SELECT kind, actor_id FROM vigil.audit_events WHERE kind LIKE 'action.%' AND actor_id = $1 ORDER BY id", [ALICE]);
    expect(audit.rows.map((r) => r.kind)).toContain('action.request');
    expect(slack.violations).toEqual([]);
  }, 90_000);
});

/** Press `label` on `message`, fill the form it opens (choice, reason) and submit it; the approval message. */
async function silenceThroughForm(message: StoredMessage, label: string, variant: (options: Array<{ value: string; text: string }>) => string): Promise<{ intro: string; approval: StoredMessage }> {
  const opened = slack.openedViews.length;
  expect((await click(ALICE, message, label)).status).toBe(200);
  await waitFor(() => slack.openedViews.length > opened, { what: 'the silence form' });
  const view = slack.openedViews[opened]?.view as { callback_id: string; private_metadata: string; blocks: Array<{ block_id?: string; text?: { text: string }; element?: { options?: Array<{ value: string; text: { text: string } }> } }> };
  const options = (view.blocks.find((b) => b.block_id === 'variant')?.element?.options ?? []).map((o) => ({ value: o.value, text: o.text.text }));
  const before = slack.topLevel(APPROVALS).length;
  const body = viewSubmissionBody({ callbackId: view.callback_id, values: { reason: 'known: deploy in progress' }, choices: { variant: variant(options) }, userId: ALICE, privateMetadata: view.private_metadata });
  expect((await postSigned(`${bot?.baseUrl}/slack/events`, signBody(body, { signingSecret: ALERT_SIGNING_SECRET }))).status).toBe(200);
  await waitFor(() => slack.topLevel(APPROVALS).length > before, { what: 'the silence request' });
  return { intro: view.blocks[0]?.text?.text ?? '', approval: slack.topLevel(APPROVALS)[before] as StoredMessage };
}

describe('Silence from the message', () => {
  it('silences exactly the group: a new alert of the same name elsewhere still reaches Slack', async () => {
    const alert = (env: string, instance: string) => ({ labels: { alertname: 'ScopeApiDown', severity: 'critical', env, instance: `${instance}` }, annotations: { summary: `Scope API down in ${env}` } });
    await am.pushAlerts([alert('staging', 'api-s1'), alert('staging', 'api-s2')]);
    const messages = (env: string) => slack.topLevel(CRIT).filter((m) => shown(m).includes(`Scope API down in ${env}`));
    await waitFor(() => messages('staging').length === 1 && shown(messages('staging')[0]).includes('api-s2'), { timeoutMs: 15_000, what: 'the staging group' });
    const staging = messages('staging')[0] as StoredMessage;

    const { intro, approval } = await silenceThroughForm(staging, 'Silence 1h', (options) => {
      expect(options.map((o) => o.text)).toEqual(['This group: 2 alerts now', 'Only instance=api-s1', 'Only instance=api-s2']);
      return 'group';
    });
    expect(intro).toContain('where alertname="ScopeApiDown", env="staging".');
    expect(intro).toContain('Alertmanager has 2 alerts matching now');
    expect((await click(BOSS, approval, 'Approve')).status).toBe(200);
    await waitFor(() => blockText(approval.blocks).includes('Succeeded'), { timeoutMs: 10_000, what: 'the silence created' });
    await waitFor(() => shown(staging).includes('Silenced in Alertmanager'), { timeoutMs: 10_000, what: 'the staging message silenced' });
    expect(shown(staging)).toContain('(alertname="ScopeApiDown", env="staging")');

    // The same alert name in prod is not covered: Alertmanager sends it and Vigil posts it.
    await am.pushAlerts([alert('prod', 'api-p1')]);
    await waitFor(() => messages('prod').length === 1, { timeoutMs: 15_000, what: 'the prod alert posted despite the staging silence' });
    expect(shown(messages('prod')[0])).not.toContain('Silenced');
  }, 60_000);
});
