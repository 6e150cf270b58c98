/**
 * Vigil end to end over HTTP: the real bot (config loader, container, HTTP server, Bolt, our
 * receiver, dispatcher, commands, audit) against the machine's Postgres and Redis, with the local
 * Slack Web API stand-in in place of slack.com. Requests are signed and shaped like Slack's own.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { createPool } from '../../src/db/pools.ts';
import { pino } from 'pino';
import { stringify as toYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { startVigil, type RunningVigil } from '../../src/vigil.ts';
import { features as defaultFeatures, type FeatureFactory } from '../../src/features/index.ts';
import type { Form, Interaction } from '../../src/core/interactions.ts';
import { sendJson } from '../../src/http/respond.ts';
import { startSlackApiServer, validateBlocks, type SlackApiServer } from '../support/slack-api-server.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { waitFor } from '../support/wait.ts';
import {
  blockActionsBody,
  postSigned,
  signBody,
  viewSubmissionBody,
  signedSlashCommand,
  slashCommandBody,
  type SignOptions,
  type SlackPostResult,
  type SlashCommandFields,
} from '../support/slack-requests.ts';

const SIGNING_SECRET = `e2e-signing-secret-${randomBytes(12).toString('hex')}`;
const BOT_TOKEN = `xoxb-e2e-${randomBytes(12).toString('hex')}`;
const QUEUE = 'e2e-emails';
const FAILURE_REASON = 'SMTP 550 5.1.1 mailbox unavailable';

// Shared by every describe: the Slack stand-in, a database of our own, a BullMQ prefix of our own.
let slack: SlackApiServer;
let testDb: TestDatabase;
let dbUrl: string;
let db: pg.Pool;
let bullRedis: Redis;
let prefix: string;
let testQueue: Queue;
let workDir: string;
/** Every HTTP answer and response_url post either bot produced, for the secrets check. */
const replyBodies: string[] = [];

/** Text of every block a person would read: headers, sections, fields, context. */
function blocksText(blocks: unknown): string {
  if (!Array.isArray(blocks)) return '';
  const out: string[] = [];
  const textOf = (v: unknown) => (v !== null && typeof v === 'object' && 'text' in v && typeof v.text === 'string' ? v.text : '');
  for (const block of blocks as Array<Record<string, unknown>>) {
    out.push(textOf(block.text));
    if (Array.isArray(block.fields)) out.push(...block.fields.map(textOf));
    if (Array.isArray(block.elements)) out.push(...block.elements.map(textOf));
  }
  return out.filter(Boolean).join('\n');
}

function headerText(blocks: unknown): string {
  if (!Array.isArray(blocks)) return '';
  const header = (blocks as Array<Record<string, unknown>>).find((b) => b.type === 'header');
  const text = header?.text as { text?: unknown } | undefined;
  return typeof text?.text === 'string' ? text.text : '';
}

/** A bot started from config as `main.ts` would, with a YAML file of its own and PORT=0. */
async function startBot(
  name: string,
  yaml: Record<string, unknown>,
  log: Logger,
  features: readonly FeatureFactory[] = defaultFeatures,
): Promise<{ vigil: RunningVigil; eventsUrl: string; baseUrl: string }> {
  const path = join(workDir, `${name}.yaml`);
  await writeFile(path, toYaml(yaml));
  const config = loadConfig(
    {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: `${slack.url}/api/`,
      DATABASE_URL: dbUrl,
      REDIS_URL: TEST_REDIS_URL,
      PORT: '0',
      VIGIL_CONFIG: path,
      PATH: process.env.PATH,
    },
    workDir,
  );
  const vigil = await startVigil({ config, log, announce: () => undefined, embedded: false, features });
  if (!vigil.server) throw new Error('Vigil started without its HTTP server');
  const baseUrl = `http://127.0.0.1:${vigil.server.port}`;
  return { vigil, baseUrl, eventsUrl: `${baseUrl}/slack/events` };
}

async function auditRows(userId: string) {
  // Command runs are audit events of kind 'command'; shown in the shape the checks below read.
  const { rows } = await db.query<{ surface: string; user_id: string; user_name: string | null; channel_id: string | null; team_id: string | null; command: string; args: string; outcome: string }>(
    `SELECT details->>'surface' AS surface, actor_id AS user_id, actor_name AS user_name, channel AS channel_id, details->>'team' AS team_id,
            subject AS command, details->>'args' AS args, outcome
       FROM vigil.audit_events WHERE kind = 'command' AND actor_id = $1 ORDER BY id`,
    [userId],
  );
  return rows;
}

/**
 * A feature of the tests' own: one button handler and one HTTP route, added to the bot without
 * touching the HTTP server or the Slack wiring, the way alerts and actions will add theirs.
 */
const clicks: Interaction[] = [];
const forms: Interaction[] = [];
const CHOICE_FORM: Form = {
  handler: 'test.form-submit',
  title: 'Silence 1h',
  intro: 'Silences alertname="ApiDown", env="prod" <2 alerts>',
  submit: 'Request',
  fields: [
    { id: 'scope', label: 'Silence', options: [{ value: 'group', label: 'The whole group' }, { value: 'one', label: 'Only db1' }], initial: 'group' },
    { id: 'reason', label: 'Why?' },
  ],
  privateMetadata: '{"group":"g1"}',
};
const testFeature: FeatureFactory = ({ outbox }) => ({
  name: 'test',
  interactions: [
    {
      id: 'test.ack',
      async handle(interaction) {
        clicks.push(interaction);
        // Tell the channel through the outbox, the one path for messages Vigil starts itself.
        if (!outbox) throw new Error('the bot has no outbox');
        if (interaction.kind === 'button' && interaction.message) {
          // A neutral message: the outbox draws the user reference as a Slack mention.
          const text = [`${interaction.value} acknowledged by `, { user: interaction.invoker.userId }];
          await outbox.send({ op: 'post', key: `test-ack:${interaction.value}`, channel: interaction.message.channelId, message: { text } });
        }
        return { reply: { title: 'Acknowledged', status: 'ok', summary: `by ${interaction.invoker.userId}` }, replaceOriginal: true };
      },
    },
    // A form that shows what it will do and offers a choice, as an alert's "Silence 1h" does.
    { id: 'test.form', handle: async () => ({ form: CHOICE_FORM }) },
    {
      id: 'test.form-submit',
      async handle(interaction) {
        forms.push(interaction);
        return { reply: { title: 'Chosen', status: 'ok', summary: interaction.kind === 'form' ? JSON.stringify(interaction.values) : '' } };
      },
    },
  ],
  routes: [{ method: 'GET', path: '/test/feature', handle: (_req, res) => sendJson(res, 200, { feature: 'test' }) }],
});

const uniqueUser = (tag: string) => `U${tag.toUpperCase()}${randomBytes(4).toString('hex').toUpperCase()}`;

beforeAll(async () => {
  slack = await startSlackApiServer();
  workDir = await mkdtemp(join(tmpdir(), 'vigil-e2e-'));

  // A database of our own, with pg_stat_statements, so /slowqueries has real statistics to show.
  testDb = await createTestDatabase('e2e');
  dbUrl = testDb.url;
  db = createPool(dbUrl, { name: 'vigil-e2e', max: 2, onIdleError: () => undefined });
  await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  // The audit table exists before any rejected-request check looks for rows in it.
  await migrate(db);

  // A real BullMQ queue under a prefix nobody else uses, holding one failed job.
  prefix = uniqueName('e2e');
  bullRedis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  testQueue = new Queue(QUEUE, { connection: bullRedis, prefix });
  const worker = new Worker(
    QUEUE,
    async () => {
      throw new Error(FAILURE_REASON);
    },
    { connection: bullRedis, prefix },
  );
  const failed = new Promise<void>((resolve) => worker.once('failed', () => resolve()));
  await testQueue.add('welcome-email', { to: 'someone@example.com' }, { attempts: 1 });
  await failed;
  await worker.close();
});

afterAll(async () => {
  await testQueue?.close();
  if (bullRedis) {
    // Remove everything under our prefixes (the slow bot's too): the Redis is shared.
    for (const p of [prefix, `${prefix}_slow`, `${prefix}_own`, `${prefix}_slow_own`]) await deleteKeysUnder(bullRedis, p);
    bullRedis.disconnect();
  }
  await db?.end();
  await testDb?.drop();
  await slack?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('Vigil over HTTP (real Postgres, Redis, BullMQ; Slack stand-in)', () => {
  let vigil: RunningVigil;
  let eventsUrl: string;
  let baseUrl: string;

  beforeAll(async () => {
    ({ vigil, eventsUrl, baseUrl } = await startBot('main', { bullmq: { prefix }, state: { queuePrefix: `${prefix}_own` } }, createLogger('silent'), [...defaultFeatures, testFeature]));
  });

  afterAll(async () => {
    await vigil?.stop();
  });

  const sign = (extra: Partial<SignOptions> = {}): SignOptions => ({ signingSecret: SIGNING_SECRET, ...extra });

  async function send(fields: SlashCommandFields, extra: Partial<SignOptions> = {}): Promise<SlackPostResult> {
    const result = await postSigned(eventsUrl, signedSlashCommand(fields, sign(extra)));
    replyBodies.push(result.text);
    return result;
  }

  /** A 200 JSON reply with valid Block Kit, returning its blocks' text for further checks. */
  function expectGoodReply(res: SlackPostResult): { header: string; text: string; body: Record<string, unknown> } {
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^application\/json/);
    const body = res.json;
    if (!body) throw new Error(`expected a JSON reply, got: ${res.text.slice(0, 200)}`);
    expect(validateBlocks(body.blocks)).toEqual([]);
    expect(typeof body.text).toBe('string');
    return { header: headerText(body.blocks), text: blocksText(body.blocks), body };
  }

  it('answers a signed /health with Block Kit, ephemeral by default', async () => {
    const res = await send({ command: '/health', response_url: slack.responseUrl() });
    const { header, text, body } = expectGoodReply(res);
    expect(header).toMatch(/^Health: /);
    expect(body.response_type).toBe('ephemeral');
    expect(text).toContain('*Postgres*');
    expect(text).toContain('*Redis*');
    expect(text).toContain(QUEUE);
  });

  it('posts in the channel with --public', async () => {
    const { header, body } = expectGoodReply(await send({ command: '/health', text: '--public' }));
    expect(header).toMatch(/^Health: /);
    expect(body.response_type).toBe('in_channel');
  });

  it('reaches the same command through /vigil health', async () => {
    const user = uniqueUser('umbrella');
    const { header } = expectGoodReply(await send({ command: '/vigil', text: 'health', user_id: user }));
    expect(header).toMatch(/^Health: /);
    await vigil.container.flushAudit();
    expect((await auditRows(user)).map((r) => r.command)).toEqual(['health']);
  });

  it('lists every command for /vigil help', async () => {
    const { header, text } = expectGoodReply(await send({ command: '/vigil', text: 'help' }));
    expect(header).toBe('Vigil commands');
    for (const name of ['/health', '/queue', '/slowqueries']) expect(text).toContain(name);
  });

  it('answers an unknown /vigil subcommand with help naming the problem', async () => {
    const { header, text } = expectGoodReply(await send({ command: '/vigil', text: 'nope' }));
    expect(header).toBe('Vigil commands');
    expect(text).toContain('Unknown command "nope".');
    expect(text).toContain('/health');
  });

  it('shows the test queue in /queue', async () => {
    const { header, text, body } = expectGoodReply(await send({ command: '/queue' }));
    expect(header).toMatch(/^Queues \(\d+\)$/);
    expect(text).toContain(QUEUE);
    // A failed job makes it worth a look: a button that runs `/queue <name>` (pressed in 'buttons and clicks').
    expect(JSON.stringify(body.blocks)).toContain(`"value":"/queue ${QUEUE}"`);
  });

  it('shows the failure reason in /queue <name>', async () => {
    const { header, text } = expectGoodReply(await send({ command: '/queue', text: QUEUE }));
    expect(header).toBe(`Queue ${QUEUE}`);
    expect(text).toContain('Recent failures');
    expect(text).toContain(FAILURE_REASON);
    expect(text).toContain('welcome-email');
  });

  it('answers /slowqueries --limit 3 from pg_stat_statements', async () => {
    const { header, text } = expectGoodReply(await send({ command: '/slowqueries', text: '--limit 3' }));
    expect(header).toBe('Slow queries by total time');
    const code = /```\n([\s\S]*?)\n```/.exec(text)?.[1] ?? '';
    const rows = code.split('\n').slice(1); // the first line is the column header
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(3);
  });

  it('answers /slowqueries --by nope with usage saying what was wrong', async () => {
    const user = uniqueUser('badargs');
    const { header, text } = expectGoodReply(await send({ command: '/slowqueries', text: '--by nope', user_id: user }));
    expect(header).toBe('/slowqueries');
    expect(text).toContain('Bad arguments: --by: must be one of total, mean, calls');
    expect(text).toContain('/slowqueries [--by total|mean|calls]');
    await vigil.container.flushAudit();
    expect((await auditRows(user)).map((r) => r.outcome)).toEqual(['bad_args']);
  });

  describe('refuses requests Slack did not sign, and runs nothing', () => {
    const cases: Array<[string, Partial<SignOptions>]> = [
      ['a wrong signature', { wrongSignature: true }],
      ['a timestamp 6 minutes old', { timestampOffsetSeconds: -360 }],
      ['a timestamp 6 minutes in the future', { timestampOffsetSeconds: 360 }],
    ];
    for (const [what, extra] of cases) {
      it(`401 for ${what}`, async () => {
        const user = uniqueUser('rejected');
        const responseId = `rejected-${user}`;
        const res = await send({ command: '/health', user_id: user, response_url: slack.responseUrl(responseId) }, extra);
        expect(res.status).toBe(401);
        expect(res.json).toBeNull();
        // Give a (wrongly) started run time to show itself before looking for its traces.
        await new Promise((r) => setTimeout(r, 150));
        await vigil.container.flushAudit();
        expect(await auditRows(user)).toEqual([]);
        expect(slack.responses.filter((r) => r.path.endsWith(`/${responseId}`))).toEqual([]);
      });
    }
  });

  it('413 for a body over 256 KiB, before verifying or running anything', async () => {
    const user = uniqueUser('huge');
    const body = `${slashCommandBody({ command: '/health', user_id: user })}&text=${'x'.repeat(300 * 1024)}`;
    const res = await postSigned(eventsUrl, signBody(body, sign()));
    replyBodies.push(res.text);
    expect(res.status).toBe(413);
    await vigil.container.flushAudit();
    expect(await auditRows(user)).toEqual([]);
  });

  it('writes an audit row for a successful run', async () => {
    const user = uniqueUser('audited');
    expectGoodReply(await send({ command: '/health', user_id: user, user_name: 'ann', channel_id: 'C0AUDIT', team_id: 'T0AUDIT' }));
    await vigil.container.flushAudit();
    expect(await auditRows(user)).toEqual([
      { surface: 'slack', user_id: user, user_name: 'ann', channel_id: 'C0AUDIT', team_id: 'T0AUDIT', command: 'health', args: '', outcome: 'ok' },
    ]);
  });

  describe('buttons and clicks', () => {
    /** POST a signed click and return the HTTP answer (Slack only needs a prompt 200). */
    async function clickButton(fields: Parameters<typeof blockActionsBody>[0]): Promise<SlackPostResult> {
      const res = await postSigned(eventsUrl, signBody(blockActionsBody(fields), sign()));
      replyBodies.push(res.text);
      return res;
    }
    const postsTo = (id: string) => slack.responses.filter((r) => r.path.endsWith(`/${id}`));

    it('a suggestion in /queue is a button; clicking it runs the command for the clicker and answers in place', async () => {
      const { body } = expectGoodReply(await send({ command: '/queue' }));
      const buttons = (body.blocks as Array<Record<string, unknown>>).filter((b) => b.type === 'actions').flatMap((b) => b.elements as Array<Record<string, string>>);
      const inspect = buttons.find((b) => b.value === `/queue ${QUEUE}`);
      if (!inspect?.action_id) throw new Error(`no button for /queue ${QUEUE}: ${JSON.stringify(buttons)}`);

      const user = uniqueUser('clicker');
      const responseId = `click-${user}`;
      const res = await clickButton({ actionId: inspect.action_id, value: inspect.value ?? '', userId: user, responseUrl: slack.responseUrl(responseId) });
      expect(res.status).toBe(200);
      await slack.waitFor(() => postsTo(responseId).length > 0, 5000);
      const [post] = postsTo(responseId);
      expect(post?.status).toBe(200);
      expect(post?.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(headerText(post?.body.blocks)).toBe(`Queue ${QUEUE}`);
      expect(blocksText(post?.body.blocks)).toContain(FAILURE_REASON);
      await vigil.container.flushAudit();
      expect((await auditRows(user)).map((r) => [r.command, r.args, r.surface])).toEqual([['queue', QUEUE, 'slack']]);
    });

    it('hands a feature’s button to its handler with who, where and which message', async () => {
      const user = uniqueUser('acker');
      const responseId = `ack-${user}`;
      const res = await clickButton({ actionId: 'test.ack#3', value: 'alert-17', userId: user, channelId: 'C0ALERTS', messageTs: '1712345678.000200', responseUrl: slack.responseUrl(responseId) });
      expect(res.status).toBe(200);
      await slack.waitFor(() => postsTo(responseId).length > 0, 5000);
      expect(clicks.at(-1)).toEqual({
        kind: 'button',
        handler: 'test.ack',
        value: 'alert-17',
        invoker: { surface: 'slack', userId: user, userName: 'steve', channelId: 'C0ALERTS', teamId: 'T0001' },
        message: { channelId: 'C0ALERTS', ts: '1712345678.000200' },
      });
      expect(postsTo(responseId)[0]?.body).toMatchObject({ replace_original: true });
      expect(headerText(postsTo(responseId)[0]?.body.blocks)).toBe('Acknowledged');
      // The handler's channel message went out through the bot's outbox worker, once.
      const posted = () => slack.calls.filter((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0ALERTS');
      await slack.waitFor(() => posted().length > 0, 10_000);
      expect(posted().map((c) => [c.body.text, c.status])).toEqual([[`alert-17 acknowledged by <@${user}>`, 200]]);
      await vigil.container.infra.outbox?.send({ op: 'post', key: 'test-ack:alert-17', channel: 'C0ALERTS', message: { text: 'again' } });
      // The ref is recorded just after Slack answers, so the stand-in may have seen the post first.
      const ref = () => db.query<{ channel: string; ts: string }>("SELECT channel, ts FROM vigil.slack_messages WHERE key = 'test-ack:alert-17'");
      const rows = await waitFor(async () => {
        const found = (await ref()).rows;
        return found.length > 0 ? found : null;
      }, { what: 'the message ref' });
      expect(rows).toEqual([{ channel: 'C0ALERTS', ts: expect.stringMatching(/^\d+\.\d{6}$/) }]);
      expect(posted()).toHaveLength(1);
    });

    it('explains an unknown button in an ephemeral answer instead of leaving it silent', async () => {
      const responseId = `stale-${uniqueUser('stale')}`;
      const res = await clickButton({ actionId: 'retired.handler#0', value: 'x', responseUrl: slack.responseUrl(responseId) });
      expect(res.status).toBe(200);
      await slack.waitFor(() => postsTo(responseId).length > 0, 5000);
      expect(postsTo(responseId)[0]?.body).toMatchObject({ response_type: 'ephemeral' });
      expect(blocksText(postsTo(responseId)[0]?.body.blocks)).toContain('no longer handled by Vigil');
    });

    it('opens a form with an intro and a choice, and hands the chosen option to the form’s handler', async () => {
      const opened = slack.openedViews.length;
      expect((await clickButton({ actionId: 'test.form#0', value: 'g1' })).status).toBe(200);
      // The stand-in opens only views Slack would accept (select options, preselection, limits).
      await slack.waitFor(() => slack.openedViews.length > opened, 5000);
      const view = slack.openedViews[opened]?.view as { callback_id: string; private_metadata: string; blocks: Array<Record<string, unknown>> };
      expect(view.blocks.map((b) => [b.type, b.block_id])).toEqual([['section', undefined], ['input', 'scope'], ['input', 'reason']]);
      expect(blocksText(view.blocks)).toContain('Silences alertname="ApiDown", env="prod" &lt;2 alerts&gt;');
      expect(view.blocks[1]?.element).toMatchObject({ type: 'static_select', action_id: 'value', initial_option: { value: 'group' } });

      const submit = (choice: string | null) =>
        postSigned(eventsUrl, signBody(viewSubmissionBody({ callbackId: view.callback_id, privateMetadata: view.private_metadata, values: { reason: 'noisy' }, choices: { scope: choice } }), sign()));
      const res = await submit('one');
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ response_action: 'update', view: { type: 'modal' } });
      expect(JSON.stringify(res.json)).toContain(JSON.stringify(JSON.stringify({ reason: 'noisy', scope: 'one' })).slice(1, -1));
      expect(forms.at(-1)).toMatchObject({ kind: 'form', handler: 'test.form-submit', values: { scope: 'one', reason: 'noisy' }, privateMetadata: '{"group":"g1"}' });

      // A choice left unmade is absent; one longer than any option Slack allows never reaches the handler.
      await submit(null);
      expect(forms.at(-1)).toMatchObject({ values: { reason: 'noisy' } });
      expect(forms.at(-1)).not.toHaveProperty('values.scope');
      const before = forms.length;
      expect((await submit('x'.repeat(151))).status).toBe(200);
      expect(forms.length).toBe(before);
    });

    it('answers a form nobody handles by updating the modal with an explanation', async () => {
      const res = await postSigned(eventsUrl, signBody(viewSubmissionBody({ callbackId: 'retired.form', values: { reason: 'x' } }), sign()));
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ response_action: 'update', view: { type: 'modal' } });
      expect(JSON.stringify(res.json)).toContain('no longer handled by Vigil');
    });

    it('refuses an unsigned click with 401 and runs nothing', async () => {
      const before = clicks.length;
      const res = await postSigned(eventsUrl, signBody(blockActionsBody({ actionId: 'test.ack#0', value: 'x' }), sign({ wrongSignature: true })));
      expect(res.status).toBe(401);
      await new Promise((r) => setTimeout(r, 100));
      expect(clicks.length).toBe(before);
    });

    it('serves a feature’s own HTTP route from the one server', async () => {
      const res = await fetch(`${baseUrl}/test/feature`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ feature: 'test' });
    });
  });

  it('serves /healthz, /readyz and /metrics', async () => {
    const live = await fetch(`${baseUrl}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'alive' });

    const ready = await fetch(`${baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: [
        { name: 'postgres', ready: true },
        { name: 'redis', ready: true },
        { name: 'audit', ready: true },
      ],
    });

    const metrics = await fetch(`${baseUrl}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^vigil_commands_total\{[^}]*command="health"[^}]*outcome="ok"[^}]*\} [1-9]\d*$/m);
    expect(text).toMatch(/^vigil_commands_total\{[^}]*command="unknown"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^vigil_interactions_total\{[^}]*handler="vigil.command"[^}]*outcome="ok"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^vigil_slack_writes_total\{[^}]*method="chat.postMessage"[^}]*outcome="ok"[^}]*\} [1-9]/m);
  });
});

describe('a command slower than the ack threshold', () => {
  let vigil: RunningVigil;
  let eventsUrl: string;
  let slowTarget: Server;
  const logLines: string[] = [];
  const PROBE_DELAY_MS = 600;
  /** While set, the target holds its answers until the test lets them go: order, not timing. */
  let held: ServerResponse[] | null = null;

  beforeAll(async () => {
    // An HTTP probe target that takes its time, so /health outlives `ackAfterMs`.
    slowTarget = createServer((_req, res) => {
      if (held) held.push(res);
      else setTimeout(() => res.end('ok'), PROBE_DELAY_MS);
    });
    await new Promise<void>((resolve) => slowTarget.listen(0, '127.0.0.1', resolve));
    const targetPort = (slowTarget.address() as AddressInfo).port;

    // Everything this bot logs, at debug, with none of createLogger's redaction: the secrets must
    // never reach the logger in the first place.
    const log: Logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
    ({ vigil, eventsUrl } = await startBot(
      'slow',
      {
        slack: { ackAfterMs: 100 },
        probes: { timeoutMs: 2500, http: [{ name: 'slow-api', url: `http://127.0.0.1:${targetPort}/status?key=abc` }] },
        bullmq: { prefix: `${prefix}_slow` },
        state: { queuePrefix: `${prefix}_slow_own` },
      },
      log,
    ));
  });

  afterAll(async () => {
    await vigil?.stop();
    if (slowTarget) {
      slowTarget.closeAllConnections();
      await new Promise<void>((resolve) => slowTarget.close(() => resolve()));
    }
  });

  async function send(fields: SlashCommandFields, extra: Partial<SignOptions> = {}): Promise<SlackPostResult> {
    const result = await postSigned(eventsUrl, signedSlashCommand(fields, { signingSecret: SIGNING_SECRET, ...extra }));
    replyBodies.push(result.text);
    return result;
  }

  it('acks with "Working on" while the probe is still out, and answers through response_url', async () => {
    const user = uniqueUser('slow');
    const responseId = `slow-${user}`;
    const waiting: ServerResponse[] = [];
    held = waiting;
    let res: SlackPostResult;
    try {
      res = await send({ command: '/health', user_id: user, response_url: slack.responseUrl(responseId) });
      // The ack came back while the target still held the probe's request, before any answer.
      expect(waiting).toHaveLength(1);
      expect(slack.responses.filter((r) => r.path.endsWith(`/${responseId}`))).toEqual([]);
    } finally {
      held = null;
      for (const r of waiting) r.end('ok');
    }
    expect(res.status).toBe(200);
    expect(res.json?.text).toBe(':hourglass_flowing_sand: Working on /health…');
    expect(res.json?.response_type).toBe('ephemeral');

    await slack.waitFor(() => slack.responses.some((r) => r.path.endsWith(`/${responseId}`)), 5000);
    const posts = slack.responses.filter((r) => r.path.endsWith(`/${responseId}`));
    expect(posts).toHaveLength(1);
    const post = posts[0];
    if (!post) throw new Error('unreachable');
    replyBodies.push(JSON.stringify(post.body));
    expect(post.status).toBe(200); // the stand-in accepted it (it refuses invalid blocks with 400)
    expect(validateBlocks(post.body.blocks)).toEqual([]);
    expect(headerText(post.body.blocks)).toMatch(/^Health: /);
    expect(post.body.response_type).toBe('ephemeral');
    expect(post.body.replace_original).toBe(false);
    const text = blocksText(post.body.blocks);
    expect(text).toContain('slow-api');
    expect(text).toMatch(/HTTP 200 in \d+/);

    await vigil.container.flushAudit();
    expect((await auditRows(user)).map((r) => [r.command, r.outcome])).toEqual([['health', 'ok']]);
  });

  it('never logs or replies with the signing secret or the bot token', async () => {
    // Give the logger something to say: a rejected request, a bad payload, an unknown command.
    await send({ command: '/health', user_id: uniqueUser('sneaky') }, { wrongSignature: true });
    await send({ command: '/health' }, { timestampOffsetSeconds: -3600 });
    await send({ command: '/vigil', text: 'nope', response_url: slack.responseUrl() });
    // --verbose adds every detail the probes gather (versions, database, memory, clients).
    const verboseId = `verbose-${uniqueUser('v')}`;
    const verbose = await send({ command: '/health', text: '--verbose', response_url: slack.responseUrl(verboseId) });
    // Answered at once from a young snapshot, or later through response_url: either way it is checked.
    if (!verbose.text.includes('Health:')) await slack.waitFor(() => slack.responses.some((r) => r.path.endsWith(`/${verboseId}`)), 5000);
    const bad = await postSigned(eventsUrl, signBody('command=not-a-command&text=', { signingSecret: SIGNING_SECRET }));
    replyBodies.push(bad.text);
    await vigil.container.flushAudit();
    replyBodies.push(...slack.responses.map((r) => JSON.stringify(r.body)));

    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).toContain('slack request rejected');
    expect(replyBodies.length).toBeGreaterThan(10);
    for (const secret of [SIGNING_SECRET, BOT_TOKEN]) {
      expect(logLines.filter((l) => l.includes(secret))).toEqual([]);
      expect(replyBodies.filter((b) => b.includes(secret))).toEqual([]);
    }
    // Nor does the probe target's query string (it often carries a key).
    expect(replyBodies.filter((b) => b.includes('key=abc'))).toEqual([]);
  });
});
