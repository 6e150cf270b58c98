/**
 * Incidents end to end: the real bot (alerts and incidents configured) against the machine's
 * Postgres and Redis, Slack replaced by the stand-in. A critical alert's message offers Declare;
 * concurrent declarations make one incident and one channel; the channel, the alert's thread and
 * the announcement channel say so; ack, update, the alert resolving and /incident resolve end in a
 * write-up with the timeline in order and the response times; the audit trail still verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { ALERT_SIGNING_SECRET, ALERT_WEBHOOK_TOKEN, startAlertsBot, type AlertsBot } from '../support/alerts-bot.ts';
import { createBotWorld, type BotWorld } from '../support/bot-world.ts';
import { blockText, type SlackApiServer, type StoredMessage } from '../support/slack-api-server.ts';
import { blockActionsBody, postSigned, signBody, signedSlashCommand, viewSubmissionBody } from '../support/slack-requests.ts';
import { waitFor } from '../support/wait.ts';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { richTextString } from '../../src/core/reply.ts';
import { NEXT_STEPS } from '../../src/incidents/messages.ts';
import { REPO_ROOT, runNode } from '../support/run-process.ts';
import { verifyAuditChain } from '../../src/audit/chain.ts';
import { actionsFeature } from '../../src/features/actions.ts';
import { alertsFeature } from '../../src/features/alerts.ts';
import { auditFeature } from '../../src/features/audit.ts';
import { incidentsFeature } from '../../src/features/incidents.ts';
import { inspectFeature } from '../../src/features/inspect.ts';

const CRIT = 'C0CRITICAL';
const ANNOUNCE = 'C0ANNOUNCE';
const USERS = { alice: 'U0ALICE', bob: 'U0BOB' } as const;
const ONCALL = ['U0ONCALL1', 'U0ONCALL2'];

let world: BotWorld;
let slack: SlackApiServer;
let db: pg.Pool;
let bot: AlertsBot;
/** The first test's incident (ids are not 1, 2, 3: a declaration that lost a race leaves a gap). */
let first = '';

const shown = (m: StoredMessage | undefined) => (m ? blockText(m.blocks) || m.text : '');
type Element = { action_id?: string; value?: string; text?: { text?: string } };
const buttonOf = (m: StoredMessage, prefix: string) =>
  (m.blocks as Array<{ type: string; elements?: Element[] }>).flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : [])).find((e) => e.action_id?.startsWith(`${prefix}#`));

function notification(status: 'firing' | 'resolved', name = 'CheckoutErrors', instances = ['web-1']) {
  return {
    receiver: 'vigil',
    status,
    alerts: instances.map((instance, i) => ({
      status,
      labels: { alertname: name, severity: 'critical', service: 'checkout', instance },
      annotations: { summary: 'Checkout answers 5xx' },
      // The first started two minutes ago, each further one a second later.
      startsAt: new Date(started - 120_000 + i * 1000).toISOString(),
      endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
      generatorURL: '',
      fingerprint: `${name}-${instance}`,
    })),
    groupLabels: { alertname: name },
    commonLabels: { alertname: name, severity: 'critical', service: 'checkout' },
    commonAnnotations: { summary: 'Checkout answers 5xx' },
    externalURL: 'http://alertmanager.example.com:9093',
    version: '4',
    groupKey: `{}:{alertname="${name}"}`,
    truncatedAlerts: 0,
  };
}
const started = Date.now();

async function postAlert(status: 'firing' | 'resolved', name?: string, instances?: string[]) {
  const res = await fetch(`${bot.baseUrl}/alerts/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_WEBHOOK_TOKEN}` },
    body: JSON.stringify(notification(status, name, instances)),
  });
  expect(res.status).toBe(200);
}

const post = (body: string) => postSigned(`${bot.baseUrl}/slack/events`, signBody(body, { signingSecret: ALERT_SIGNING_SECRET }));
const slash = (text: string, user: keyof typeof USERS, channel: string) =>
  postSigned(`${bot.baseUrl}/slack/events`, signedSlashCommand({ command: '/incident', text, user_id: USERS[user], user_name: user, channel_id: channel }, { signingSecret: ALERT_SIGNING_SECRET }));

beforeAll(async () => {
  world = await createBotWorld('incidents_e2e');
  ({ slack, db } = world);
  slack.setUserGroup('S0ONCALL', ONCALL);
  bot = await startAlertsBot({
    slack,
    databaseUrl: world.testDb.url,
    workDir: world.workDir,
    queuePrefix: world.queuePrefix,
    alerts: { channels: { critical: CRIT, default: 'C0DEFAULT' }, cooldownSeconds: { critical: 1, default: 1 }, storm: { perMinute: 100 } },
    extra: {
      incidents: { announceChannel: ANNOUNCE, invite: { userGroups: ['S0ONCALL'] } },
      actions: {
        approvalChannel: 'C0APPROVALS',
        catalog: {
          'say-hello': { title: 'Say hello', risk: 'low', approval: 'none', exec: ['echo', 'hello'] },
          'note-alert': { title: 'Note an alert', risk: 'low', approval: 'none', exec: ['echo', '{alertname}'], params: { alertname: { enum: ['PaymentsSlow'] } } },
        },
      },
    },
    features: [inspectFeature, (i) => alertsFeature(i, { processorPollMs: 200 }), actionsFeature, (i) => incidentsFeature(i, { pollMs: 200 }), auditFeature],
  });
});

afterAll(async () => {
  await bot?.stop();
  await world.close();
});

describe('an incident from a critical alert to its write-up', () => {
  it('declares once for concurrent clicks, opens one channel, works it and resolves it with a timeline in order', async () => {
    await postAlert('firing');
    await waitFor(() => slack.topLevel(CRIT).some((m) => shown(m).includes('CheckoutErrors')), { timeoutMs: 10_000, what: 'the alert message' });
    const alert = slack.topLevel(CRIT).find((m) => shown(m).includes('CheckoutErrors')) as StoredMessage;
    const declare = buttonOf(alert, 'incidents.declare');
    expect(declare?.text?.text).toBe('Declare incident');

    // Three clicks by two people at once: three forms.
    const clickers: Array<keyof typeof USERS> = ['alice', 'bob', 'alice'];
    const clicks = await Promise.all(
      clickers.map((u) => post(blockActionsBody({ actionId: declare?.action_id ?? '', value: declare?.value ?? '', userId: USERS[u], userName: u, channelId: CRIT, messageTs: alert.ts, responseUrl: slack.responseUrl() }))),
    );
    expect(clicks.map((c) => c.status)).toEqual([200, 200, 200]);
    await waitFor(() => slack.openedViews.length === 3, { what: 'three declare forms' });
    const view = slack.openedViews[0]?.view as { callback_id: string; private_metadata: string; blocks: unknown[] };
    expect(view.callback_id).toMatch(/^incidents\.declare-form/);
    // Title (empty: the alert's name), severity (sev1 for a critical alert), lead (whoever clicked).
    const form = JSON.stringify(view.blocks);
    expect(form).toContain('Leave empty for \\"CheckoutErrors\\"');
    expect(form).toContain('"initial_option":{"text":{"type":"plain_text","text":"SEV1"');
    expect(form).toMatch(/"type":"users_select","action_id":"value","initial_user":"U0(ALICE|BOB)"/);
    // …all submitted at once.
    const submitted = await Promise.all(
      clickers.map((u) =>
        post(viewSubmissionBody({ callbackId: view.callback_id, privateMetadata: view.private_metadata, userId: USERS[u], values: { title: 'Checkout errors' }, users: { lead: 'U0DAVE' }, choices: { severity: 'sev1' } })),
      ),
    );
    expect(submitted.map((s) => s.status)).toEqual([200, 200, 200]);

    // One incident, one channel.
    await waitFor(() => slack.topLevel(ANNOUNCE).length === 1, { timeoutMs: 10_000, what: 'the announcement' });
    await waitFor(async () => (await db.query('SELECT 1 FROM vigil.incidents WHERE channel_id IS NOT NULL')).rows.length > 0, { what: 'the channel recorded' });
    const incidents = await db.query<{ id: string; declared_by: string; channel_id: string; channel_name: string }>('SELECT id, declared_by, channel_id, channel_name FROM vigil.incidents');
    expect(incidents.rows).toHaveLength(1);
    const inc = incidents.rows[0] as { id: string; declared_by: string; channel_id: string; channel_name: string };
    expect(slack.calls.filter((c) => c.method === 'conversations.create')).toHaveLength(1);
    expect(slack.conversations.channels).toHaveLength(1);
    const channel = slack.conversations.channels[0];
    expect(channel?.id).toBe(inc.channel_id);
    expect(channel?.name).toMatch(/^inc-\d{8}-checkout-errors$/);
    expect(channel?.purpose).toContain(`vigil-incident-${inc.id}`);
    await waitFor(() => ONCALL.every((u) => channel?.members.includes(u)) && (channel?.topic ?? '') !== '', { what: 'the invites and the topic' });
    expect(channel?.members).toEqual(expect.arrayContaining([inc.declared_by, 'U0DAVE', ...ONCALL]));
    // The lead picked in the form (a people picker), not whoever declared.
    expect(channel?.topic).toContain('SEV1 · lead <@U0DAVE>');

    // The channel opens with the alert; the alert's thread and the announcement link to it.
    const ch = inc.channel_id;
    first = inc.id;
    await waitFor(() => slack.topLevel(ch).length >= 1, { what: 'the opening message' });
    const opening = shown(slack.topLevel(ch)[0]);
    expect(opening).toContain(`Incident ${inc.id}: Checkout errors`);
    expect(opening).toContain('CheckoutErrors');
    expect(opening).toContain('/incident update');
    // …with a link to the alert's own message.
    expect(JSON.stringify(slack.topLevel(ch)[0]?.blocks)).toContain(`"url":"https://slack.com/archives/${CRIT}/p${alert.ts.replace('.', '')}"`);
    await waitFor(() => slack.replies(CRIT, alert.ts).some((r) => r.text.includes(`<#${ch}>`)), { what: "the alert thread's link" });
    // The alert's own message links to the channel too, and offers Declare no more (a click on the
    // button as first shown still answers with the incident, below).
    await waitFor(() => shown(alert).includes(`Incident ${inc.id} is worked in <#${ch}>`), { what: "the alert message's link to the channel" });
    expect(buttonOf(alert, 'incidents.declare')).toBeUndefined();
    expect(buttonOf(alert, 'alerts.ack')).toBeDefined();
    expect(slack.topLevel(ANNOUNCE)[0]?.text).toContain(`<#${ch}>`);
    const declaredEvents = await db.query("SELECT 1 FROM vigil.audit_events WHERE kind = 'incident.declare'");
    expect(declaredEvents.rows).toHaveLength(1);

    // Declaring again from the alert links to it.
    const again = await post(blockActionsBody({ actionId: declare?.action_id ?? '', value: declare?.value ?? '', userId: USERS.bob, userName: 'bob', channelId: CRIT, messageTs: alert.ts, responseUrl: slack.responseUrl() }));
    expect(again.status).toBe(200);
    await waitFor(() => slack.responses.some((r) => JSON.stringify(r.body).includes(`already part of incident ${inc.id}`)), { what: 'the link to the incident' });
    expect(slack.openedViews).toHaveLength(3);

    // Work it: ack, an update, the alert resolving, resolve.
    const ack = buttonOf(alert, 'alerts.ack');
    await post(blockActionsBody({ actionId: ack?.action_id ?? '', value: ack?.value ?? '', userId: USERS.bob, userName: 'bob', channelId: CRIT, messageTs: alert.ts, responseUrl: slack.responseUrl() }));
    await waitFor(() => slack.messageTexts(ch).some((t) => t.includes('acknowledged by <@U0BOB>')), { timeoutMs: 10_000, what: 'the ack in the incident channel' });
    const update = await slash('update Rolled back the 14:02 deploy', 'alice', ch);
    expect(update.status).toBe(200);
    await waitFor(() => slack.messageTexts(ch).some((t) => t.includes('Rolled back the 14:02 deploy')), { timeoutMs: 10_000, what: 'the update in the channel' });
    const announcement = slack.topLevel(ANNOUNCE)[0] as StoredMessage;
    await waitFor(() => slack.replies(ANNOUNCE, announcement.ts).some((r) => r.text.includes('Rolled back')), { what: 'the update in the announcement thread' });
    await postAlert('resolved');
    await waitFor(() => slack.messageTexts(ch).some((t) => t.includes('CheckoutErrors resolved')), { timeoutMs: 10_000, what: 'the resolve in the channel' });
    // Each line once, however often the relay looked.
    await new Promise((r) => setTimeout(r, 600));
    for (const line of ['acknowledged by <@U0BOB>', 'Rolled back the 14:02 deploy', 'CheckoutErrors resolved']) expect(slack.messageTexts(ch).filter((t) => t.includes(line))).toHaveLength(1);
    const resolved = await slash('resolve Bad deploy, rolled back', 'alice', ch);
    expect(resolved.status).toBe(200);

    await waitFor(() => slack.topLevel(ch).some((m) => shown(m).includes(`Incident ${inc.id} resolved`)), { timeoutMs: 10_000, what: 'the write-up' });
    await waitFor(() => slack.replies(ANNOUNCE, announcement.ts).some((r) => r.text.includes('Resolved by <@U0ALICE>: Bad deploy')), { what: 'the resolution in the announcement thread' });
    await waitFor(() => (channel?.topic ?? '').startsWith('✅ RESOLVED'), { what: 'the topic saying resolved' });
    const writeup = shown(slack.topLevel(ch).find((m) => shown(m).includes(`Incident ${inc.id} resolved`)));
    const order = ['CheckoutErrors fired', 'Declared by', 'CheckoutErrors acknowledged by', 'Update from', 'CheckoutErrors resolved', 'Resolved by'].map((s) => writeup.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(writeup).toMatch(/Time to acknowledge\S*\s+\S*2m from the first alert/);
    expect(writeup).toContain('Time to resolve');
    expect(writeup).toContain('Root cause');
    expect(writeup).toMatch(/audit events \d+–\d+/);

    const kinds = await db.query<{ kind: string }>("SELECT kind FROM vigil.audit_events WHERE subject = $1 AND kind IN ('incident.declare', 'incident.update', 'incident.resolve') ORDER BY id", [`incident:${inc.id}`]);
    expect(kinds.rows.map((r) => r.kind)).toEqual(['incident.declare', 'incident.update', 'incident.resolve']);
    expect((await verifyAuditChain(db)).ok).toBe(true);
    expect(slack.violations).toEqual([]);

    // `npx vigil incident export`: the same write-up, naming the audit range `vigil audit verify` covers.
    const cli = (args: string[]) => runNode([join(REPO_ROOT, 'src', 'bin', 'vigil.mjs'), ...args], { DATABASE_URL: world.testDb.url, VIGIL_CONFIG: bot.configPath }, '', { timeoutMs: 60_000 });
    const json = await cli(['incident', 'export', inc.id, '--format', 'json']);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const exported = JSON.parse(json.stdout) as { timeline: { kind: string }[]; audit: { fromId: number; toId: number }; responseTimes: { ackFromAlertMs: number; resolveFromDeclareMs: number } };
    expect(exported.timeline.map((i) => i.kind)).toEqual(['alert.fired', 'incident.declare', 'alert.ack', 'incident.update', 'alert.resolved', 'incident.resolve']);
    expect(exported.responseTimes.ackFromAlertMs).toBeGreaterThanOrEqual(120_000);
    expect(exported.audit.toId).toBeGreaterThan(exported.audit.fromId);
    expect(writeup).toContain(`audit events ${exported.audit.fromId}–${exported.audit.toId}`);
    const md = await cli(['incident', 'export', inc.id, '--format', 'md']);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('## Root cause');
    expect(md.stdout).toMatch(/\| .* \| CheckoutErrors acknowledged by @U0BOB \|/);
    const verify = await cli(['audit', 'verify']);
    expect(verify.stdout).toContain('audit chain ok');
    expect((await cli(['incident', 'export', '999', '--format', 'md'])).stderr).toContain('Vigil knows no incident 999');
    expect((await cli(['incident', 'export', inc.id, '--format', 'pdf'])).code).toBe(64);
  }, 120_000);

  it('works a typed incident from its channel: link, lead, severity, timeline; the topic and the announcement thread follow', async () => {
    const said = (res: { json: Record<string, unknown> | null }) => JSON.stringify(res.json);
    await postAlert('firing', 'PaymentsSlow');
    await waitFor(() => slack.topLevel(CRIT).some((m) => shown(m).includes('PaymentsSlow')), { timeoutMs: 10_000, what: 'the second alert' });
    const alert = slack.topLevel(CRIT).find((m) => shown(m).includes('PaymentsSlow')) as StoredMessage;
    // As first shown; once the group is linked its message offers Declare no more.
    const declare = buttonOf(alert, 'incidents.declare');
    expect(shown(alert)).not.toContain('is worked in');
    const declared = await slash('declare Payments slow --severity sev3', 'bob', 'C0ELSEWHERE');
    expect(said(declared)).toMatch(/Incident (\d+) declared: Payments slow/);
    const id = Number(/Incident (\d+) declared/.exec(said(declared))?.[1]);
    const row = await waitFor(async () => (await db.query<{ channel_id: string | null }>('SELECT channel_id FROM vigil.incidents WHERE id = $1', [id])).rows[0]?.channel_id, { what: 'its channel' });
    const ch = String(row);
    const channel = slack.conversations.channels.find((c) => c.id === ch);
    expect(channel?.name).toMatch(/^inc-\d{8}-payments-slow$/);
    await waitFor(() => (channel?.topic ?? '').startsWith('SEV3 · lead <@U0BOB>'), { what: 'the first topic' });

    expect(said(await slash('link PaymentsSlow', 'bob', ch))).toContain('PaymentsSlow is linked');
    expect(said(await slash('link PaymentsSlow', 'bob', ch))).toContain('already linked');
    expect(said(await slash('link NoSuchAlert', 'bob', ch))).toContain('No firing alert group is called NoSuchAlert');
    await waitFor(() => slack.messageTexts(ch).some((t) => t.includes('Alert PaymentsSlow linked by <@U0BOB>')), { what: 'the link in the channel' });
    // A new alert joins the linked group: the channel says so.
    await postAlert('firing', 'PaymentsSlow', ['web-1', 'web-2']);
    await waitFor(() => slack.messageTexts(ch).some((t) => t.includes('PaymentsSlow: instance=web-2 firing too')), { timeoutMs: 10_000, what: 'the new alert in the channel' });
    // Linked from the channel: the alert's message now links there.
    await waitFor(() => shown(alert).includes(`is worked in <#${ch}>`), { what: "the linked alert's message showing the channel" });
    expect(buttonOf(alert, 'incidents.declare')).toBeUndefined();
    // Declare on the linked alert's message (as first shown) answers with this incident.
    await post(blockActionsBody({ actionId: declare?.action_id ?? '', value: declare?.value ?? '', userId: USERS.alice, userName: 'alice', channelId: CRIT, messageTs: alert.ts, responseUrl: slack.responseUrl() }));
    await waitFor(() => slack.responses.some((r) => JSON.stringify(r.body).includes(`already part of incident ${id}`)), { what: 'the answer naming the incident' });

    expect(said(await slash('lead @U0ALICE', 'bob', ch))).toContain('Lead is now <@U0ALICE>');
    await waitFor(() => (channel?.topic ?? '').includes('lead <@U0ALICE>') && (channel?.members.includes(USERS.alice) ?? false), { what: 'the new lead invited and in the topic' });
    expect(said(await slash('severity sev1', 'alice', ch))).toContain('Severity is now sev1');
    await waitFor(() => (channel?.topic ?? '').startsWith('SEV1'), { what: 'the topic with the new severity' });
    const announcement = slack.topLevel(ANNOUNCE).find((m) => m.text.includes(`<#${ch}>`)) as StoredMessage;
    await waitFor(() => slack.replies(ANNOUNCE, announcement.ts).some((r) => r.text.includes('Severity changed to sev1 by <@U0ALICE>')), { what: 'the severity in the announcement thread' });
    expect(said(await slash('severity sev9', 'alice', ch))).toContain('must be sev1, sev2 or sev3');

    // An action requested from the channel shows there, each step with its outcome.
    const requested = await postSigned(`${bot.baseUrl}/slack/events`, signedSlashCommand({ command: '/run', text: 'say-hello', user_id: USERS.alice, user_name: 'alice', channel_id: ch }, { signingSecret: ALERT_SIGNING_SECRET }));
    expect(requested.status).toBe(200);
    await waitFor(() => slack.messageTexts(ch).some((t) => /Action say-hello \(req-\S+\) ended: succeeded/.test(t)), { timeoutMs: 15_000, what: 'the action in the channel' });
    const lines = slack.messageTexts(ch);
    const step = (re: RegExp) => lines.findIndex((t) => re.test(t));
    expect(step(/Action say-hello requested/)).toBeGreaterThan(-1);
    expect(step(/Action say-hello requested/)).toBeLessThan(step(/say-hello \(req-\S+\) started/));
    expect(step(/say-hello \(req-\S+\) started/)).toBeLessThan(step(/say-hello \(req-\S+\) ended: succeeded/));

    // …and so does one requested anywhere for a linked alert (its alertname parameter).
    await postSigned(`${bot.baseUrl}/slack/events`, signedSlashCommand({ command: '/run', text: 'note-alert --alertname PaymentsSlow', user_id: USERS.bob, user_name: 'bob', channel_id: 'C0ELSEWHERE' }, { signingSecret: ALERT_SIGNING_SECRET }));
    await waitFor(() => slack.messageTexts(ch).some((t) => /Action note-alert \(req-\S+\) ended: succeeded/.test(t)), { timeoutMs: 15_000, what: 'the action for the alert in the channel' });

    const timeline = said(await slash('timeline', 'alice', ch));
    expect(timeline).toContain(`Incident ${id} so far`);
    expect(timeline.indexOf('Declared by @U0BOB')).toBeLessThan(timeline.indexOf('Alert PaymentsSlow linked by @U0BOB'));
    expect(timeline).toContain('Lead handed to @U0ALICE by @U0BOB');
    // Elsewhere the only open incident is meant, and --id names any.
    expect(said(await slash('timeline', 'alice', 'C0ELSEWHERE'))).toContain(`Incident ${id} so far`);
    expect(said(await slash(`timeline --id ${first}`, 'alice', 'C0ELSEWHERE'))).toContain(`Incident ${first} resolved`);
    expect(said(await slash(`update too late --id ${first}`, 'alice', 'C0ELSEWHERE'))).toContain(`Incident ${first} is resolved; nothing changes it any more`);
    expect(said(await slash('update nobody knows which', 'alice', 'C0ELSEWHERE'))).toContain(`Incident ${id}`);
  }, 60_000);

  it('works in the terminal shell (no Slack there): the answers show what the channel would, and the bot beside it opens the channel', async () => {
    const shell = await startAlertsBot({
      slack,
      databaseUrl: world.testDb.url,
      workDir: world.workDir,
      queuePrefix: world.queuePrefix,
      withoutSlack: true,
      alerts: { channels: { critical: CRIT, default: 'C0DEFAULT' } },
      extra: { incidents: { announceChannel: ANNOUNCE } },
    });
    try {
      const me = { surface: 'shell' as const, userId: 'U0CAROL', userName: 'carol' };
      const run = async (text: string) => (await shell.vigil.container.commands.dispatch('/incident', text, me)).reply;
      const declared = await run('declare Disk full on db-2');
      expect(declared.title).toMatch(/^Incident \d+ declared: Disk full on db-2$/);
      expect(richTextString(declared.summary ?? '')).toMatch(/SEV2 · lead @U0CAROL · worked \(its channel #inc-\d{8}-disk-full-on-db-2 is being created\)/);
      expect(declared.notes?.map((n) => richTextString(n))).toContain(NEXT_STEPS[0]);
      const id = (declared.data as { id: number }).id;
      // The bot with Slack, beside it on the same database, opens the channel.
      await waitFor(() => slack.conversations.channels.some((c) => c.name.endsWith('-disk-full-on-db-2') && c.members.includes('U0CAROL')), { timeoutMs: 10_000, what: 'the channel made by the bot' });
      await run(`update freed 20 GB --id ${id}`);
      const listed = await run('');
      expect(listed.sections?.[0]?.table?.rows.map((r) => r.slice(0, 3))).toContainEqual([String(id), 'sev2', 'Disk full on db-2']);
      const writeup = await run(`resolve old WAL removed --id ${id}`);
      expect(writeup.title).toBe(`Incident ${id} resolved: Disk full on db-2`);
      const rows = writeup.sections?.find((x) => x.heading.startsWith('Timeline'))?.table?.rows.map((r) => r[1]);
      expect(rows).toEqual(['Declared by @U0CAROL: Disk full on db-2 (sev2), lead @U0CAROL', 'Update from @U0CAROL: freed 20 GB', 'Resolved by @U0CAROL: old WAL removed']);
    } finally {
      await shell.stop();
    }
  }, 60_000);

  it('says clearly when incidents are not configured', async () => {
    const path = join(world.workDir, 'no-incidents.yaml');
    await writeFile(path, 'state:\n  queuePrefix: no-incidents-test\n');
    const cli = await runNode([join(REPO_ROOT, 'src', 'bin', 'vigil.mjs'), 'incident', 'list'], { DATABASE_URL: world.testDb.url, VIGIL_CONFIG: path }, '', { timeoutMs: 60_000 });
    expect(cli.stdout + cli.stderr).toContain('incidents are not configured (add an `incidents:` section');
  }, 60_000);

  it('answers an unknown subcommand with the usage', async () => {
    const res = await slash('frobnicate now', 'alice', 'C0ELSEWHERE');
    expect(res.status).toBe(200);
    const answer = JSON.stringify(res.json);
    expect(answer).toContain('no subcommand \\"frobnicate\\"');
    expect(answer).toContain('/incident declare &lt;title&gt;');
  });
});
