import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pools.ts';
import { createQueueConnection } from '../../src/db/redis-clients.ts';
import type { Logger } from '../../src/log.ts';
import { createSlackClient } from '../../src/slack/client.ts';
import { jobIdFor, QUEUE_NAME } from '../../src/slack/outbox/keys.ts';
import { createOutbox, type Outbox, type OutboxRetry } from '../../src/slack/outbox/outbox.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { startSlackApiServer, type RecordedCall, type SlackApiServer } from '../support/slack-api-server.ts';
import { sleep, waitFor } from '../support/wait.ts';

/**
 * The Slack outbox against the local Slack stand-in, with real BullMQ, Redis and Postgres. Rates
 * are fast on both sides (stand-in 50/s burst 5, outbox 40/s burst 3) so bursts take seconds; the
 * stand-in counts every request Slack would have punished (violations), and nothing here asserts
 * timing: conditions are polled with generous timeouts.
 */
const TOKEN = `xoxb-outbox-${randomBytes(6).toString('hex')}`;
const PACE = { perSecond: 40, burst: 3 };
// Many quick attempts: a 1 s window of 500s plus resets must never use them up.
const RETRY: Partial<OutboxRetry> = { attempts: 15, baseDelayMs: 100, maxDelayMs: 1000 };
// Kept so tests can tell the normal path from the safety net (a stale head dropped by the next message).
const logLines: Array<{ msg: string; channel?: string }> = [];
const log: Logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as { msg: string }) });
const staleHeadsDropped = (channel: string) => logLines.filter((l) => l.channel === channel && l.msg.includes('dropping a line head'));

let db: TestDatabase;
let pool: pg.Pool;
let server: SlackApiServer;
let admin: Redis;
const prefixes: string[] = [];
const connections: Redis[] = [];
const outboxes: Outbox[] = [];
const queues: Queue[] = [];

/** The bot's outbox: one "replica", with its own Redis connection and metrics registry. */
function replica(opts: { prefix: string; worker?: boolean; retry?: Partial<OutboxRetry>; concurrency?: number; rolledBackAfterMs?: number }) {
  // Built as the container builds Vigil's own queue connection and state pool.
  const connection = createQueueConnection(TEST_REDIS_URL, log);
  connections.push(connection);
  const registry = new Registry();
  const client = createSlackClient({ token: TOKEN, slackApiUrl: `${server.url}/api/`, log, timeoutMs: 5000 });
  const outbox = createOutbox({
    connection,
    prefix: opts.prefix,
    db: pool,
    client,
    pace: PACE,
    metrics: registry,
    log,
    concurrency: opts.concurrency ?? 4,
    retry: opts.retry ?? RETRY,
    ...(opts.rolledBackAfterMs !== undefined ? { rolledBackAfterMs: opts.rolledBackAfterMs } : {}),
  });
  outboxes.push(outbox);
  return { outbox, registry };
}

function newPrefix(): string {
  const prefix = uniqueName('outbox');
  prefixes.push(prefix);
  return prefix;
}

function queueFor(prefix: string): Queue {
  const queue = new Queue(QUEUE_NAME, { connection: admin, prefix });
  queues.push(queue);
  return queue;
}

const to = (channel: string) => (c: RecordedCall) => c.body.channel === channel;
/** Messages the stand-in accepted in a channel, in the order it accepted them. */
const posted = (channel: string) => server.calls.filter((c) => c.method === 'chat.postMessage' && c.response.ok === true && to(channel)(c));
const texts = (calls: RecordedCall[]) => calls.map((c) => c.body.text);
const violationsIn = (channel: string) => server.violations.filter((v) => v.scope === channel);

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as Array<{ value: number; labels: Record<string, string | number> }>;
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.value, 0);
}

let prefix: string;
let main: ReturnType<typeof replica>;

beforeAll(async () => {
  db = await createTestDatabase('outbox');
  pool = createPool(db.url, { name: 'vigil-outbox-test', max: 4, onIdleError: () => undefined });
  await migrate(pool);
  server = await startSlackApiServer({ perChannelPerSecond: 50, burst: 5 });
  admin = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  prefix = newPrefix();
  main = replica({ prefix });
  await main.outbox.startWorker();
});

afterAll(async () => {
  await Promise.all(outboxes.map((o) => o.close()));
  await Promise.all(queues.map((q) => q.close()));
  for (const p of prefixes) await deleteKeysUnder(admin, p);
  await Promise.all([...connections, admin].map((c) => c.quit()));
  await pool.end();
  await db.drop();
  await server.close();
});

describe('Slack outbox', () => {
  it('delivers a burst of 200 to one channel in order, once each, within the limit, through 429s, 500s and resets', { timeout: 90_000 }, async () => {
    const channel = 'C-burst';
    const n = 200;
    const sending = (async () => {
      for (let i = 0; i < n; i++) await main.outbox.send({ op: 'post', key: `burst:${i}`, channel, message: { text: `m${i}` } });
    })();

    // While the burst is going out: 429 with Retry-After for 1.5 s, then 500s for 1 s, then two resets.
    await waitFor(() => posted(channel).length >= 20, { timeoutMs: 30_000, what: '20 posts' });
    server.inject({ status: 429, retryAfter: 1, forMs: 1500, channel });
    await waitFor(() => server.calls.some((c) => to(channel)(c) && c.status === 429), { timeoutMs: 10_000, what: 'a 429' });
    await sleep(1500);
    server.inject({ status: 500, forMs: 1000, channel });
    await waitFor(() => server.calls.some((c) => to(channel)(c) && c.status === 500), { timeoutMs: 10_000, what: 'a 500' });
    await sleep(1000);
    server.inject({ reset: true, count: 2, channel });
    await sending;

    await waitFor(() => posted(channel).length >= n, { timeoutMs: 60_000, what: `${n} posts` });
    await sleep(200); // a duplicate would show up right behind the last one
    expect(texts(posted(channel))).toEqual(Array.from({ length: n }, (_, i) => `m${i}`));
    expect(violationsIn(channel)).toEqual([]);
    expect(staleHeadsDropped(channel)).toEqual([]);

    // The faults really happened, and each kind took its own path.
    const statuses = server.calls.filter(to(channel)).map((c) => c.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === 500).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === 0)).toHaveLength(2);
    const post = { method: 'chat.postMessage' };
    expect(await metricValue(main.registry, 'vigil_slack_writes_total', { ...post, outcome: 'ok' })).toBeGreaterThanOrEqual(n);
    expect(await metricValue(main.registry, 'vigil_slack_writes_total', { ...post, outcome: 'rate_limited' })).toBeGreaterThanOrEqual(1);
    expect(await metricValue(main.registry, 'vigil_slack_writes_total', { ...post, outcome: 'retryable' })).toBeGreaterThanOrEqual(3);

    // Every ref is in Postgres, where any replica finds it.
    const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM vigil.slack_messages WHERE key LIKE 'burst:%'");
    expect(rows[0]?.n).toBe(String(n));
    const first = posted(channel)[0];
    expect(await main.outbox.messageRef('burst:0')).toEqual({ channel, ts: first?.response.ts });
    expect(await main.outbox.messageRef('burst:never-sent')).toBeNull();
  });

  it('two replicas with workers on the same prefix deliver in order, once each, and the survivor carries on when one stops', { timeout: 60_000 }, async () => {
    // A pair of its own: which worker takes which job is up to BullMQ, so the main replica's
    // metrics stay out of it and the hand-over below is what proves the second one delivers.
    const shared = newPrefix();
    const [a, b] = [replica({ prefix: shared }), replica({ prefix: shared })];
    await a.outbox.startWorker();
    await b.outbox.startWorker();
    onTestFinished(() => b.outbox.close());
    const channel = 'C-replicas';
    const n = 60;
    const via = (i: number) => (i % 2 === 0 ? a : b).outbox;
    for (let i = 0; i < n; i++) {
      const req = { op: 'post', key: `replicas:${i}`, channel, message: { text: `r${i}` } } as const;
      expect((await via(i).send(req)).duplicate).toBe(false);
      // The same key through the other replica is a duplicate.
      expect((await via(i + 1).send(req)).duplicate).toBe(true);
    }
    await waitFor(() => posted(channel).length >= n, { timeoutMs: 30_000, what: `${n} posts` });
    // One replica stops (a deploy); what is sent next is the other's alone, still in order.
    await a.outbox.close();
    for (let i = n; i < n + 5; i++) await b.outbox.send({ op: 'post', key: `replicas:${i}`, channel, message: { text: `r${i}` } });
    await waitFor(() => posted(channel).length >= n + 5, { timeoutMs: 15_000, what: 'the posts after one replica stopped' });
    await sleep(200);
    expect(texts(posted(channel))).toEqual(Array.from({ length: n + 5 }, (_, i) => `r${i}`));
    expect(violationsIn(channel)).toEqual([]);
    const byA = await metricValue(a.registry, 'vigil_slack_writes_total', { outcome: 'ok' });
    const byB = await metricValue(b.registry, 'vigil_slack_writes_total', { outcome: 'ok' });
    // Once each across both, and the second one delivered (at least what only it could).
    expect(byA + byB).toBe(n + 5);
    expect(byB).toBeGreaterThanOrEqual(5);
  });

  it('posts a key once however often it is sent, even after its job is gone', async () => {
    const channel = 'C-idem';
    const req = { op: 'post', key: 'alert:g-idem:post', channel, message: { text: 'once' } } as const;
    const [a, b] = await Promise.all([main.outbox.send(req), main.outbox.send(req)]);
    expect(a.jobId).toBe(jobIdFor(req.key));
    expect(b.jobId).toBe(a.jobId);
    expect(a.jobId).toMatch(/^msg-[0-9a-f]{64}$/);
    await waitFor(() => main.outbox.messageRef(req.key), { timeoutMs: 10_000, what: 'the ref' });
    expect(await main.outbox.send(req)).toEqual({ jobId: a.jobId, duplicate: true });

    // Job removed (retention): the done marker, then the Postgres ref, still say "posted".
    await queueFor(prefix).remove(a.jobId);
    expect((await main.outbox.send(req)).duplicate).toBe(true);
    await admin.del(`${prefix}:outbox:done:${a.jobId}`);
    expect((await main.outbox.send(req)).duplicate).toBe(true);
    await sleep(300);
    expect(texts(posted(channel))).toEqual(['once']);
  });

  it("sends nothing before its caller's transaction commits, and nothing for one rolled back", { timeout: 30_000 }, async () => {
    const txPrefix = newPrefix();
    const tx = replica({ prefix: txPrefix, rolledBackAfterMs: 3000 });
    await tx.outbox.startWorker();
    const channel = 'C-tx';
    const inTransaction = async (key: string, text: string) => {
      const client = await pool.connect();
      await client.query('BEGIN');
      await tx.outbox.send({ op: 'post', key, channel, message: { text } }, client);
      return client;
    };
    // First in the channel's line, and rolled back: never sent, and the line moves on without it.
    const rolledBack = await inTransaction('tx:rolled-back', 'never');
    await rolledBack.query('ROLLBACK');
    rolledBack.release();
    // Behind it, committed only a while after it was queued: sent after the commit, not before.
    const late = await inTransaction('tx:late', 'after the commit');
    await sleep(1500);
    expect(texts(posted(channel))).toEqual([]);
    const committedAt = Date.now();
    await late.query('COMMIT');
    late.release();
    await waitFor(() => posted(channel).length === 1, { timeoutMs: 15_000, what: 'the committed message' });
    expect(texts(posted(channel))).toEqual(['after the commit']);
    expect((posted(channel)[0]?.at ?? 0) >= committedAt).toBe(true);
    await sleep(300);
    expect(texts(posted(channel))).toEqual(['after the commit']);
    expect(logLines.some((l) => l.msg === 'slack outbox: message given up')).toBe(true);
  });

  it('a job whose message is already recorded in Postgres does not post again', async () => {
    // A "CLI" outbox (no worker) enqueues; the ref appears as if a run had posted and then crashed.
    const cliPrefix = newPrefix();
    const cli = replica({ prefix: cliPrefix });
    const channel = 'C-recorded';
    await cli.outbox.send({ op: 'post', key: 'recorded:1', channel, message: { text: 'already there' } });
    await cli.outbox.send({ op: 'post', key: 'recorded:2', channel, message: { text: 'new' } });
    await pool.query("INSERT INTO vigil.slack_messages (key, channel, ts) VALUES ('recorded:1', $1, '1.000001')", [channel]);

    // Nothing is delivered without a worker: the gauges show the backlog.
    await sleep(30);
    expect(await metricValue(cli.registry, 'vigil_slack_outbox_depth')).toBe(2);
    expect(await metricValue(cli.registry, 'vigil_slack_outbox_oldest_age_seconds')).toBeGreaterThan(0);

    await cli.outbox.startWorker();
    await waitFor(() => posted(channel).length >= 1, { timeoutMs: 10_000, what: 'the new post' });
    await sleep(200);
    expect(texts(posted(channel))).toEqual(['new']);
    expect(await metricValue(cli.registry, 'vigil_slack_outbox_duplicates_total', { stage: 'worker' })).toBe(1);
    await waitFor(async () => (await metricValue(cli.registry, 'vigil_slack_outbox_depth')) === 0, { timeoutMs: 5000, what: 'an empty queue' });
    expect(await metricValue(cli.registry, 'vigil_slack_outbox_oldest_age_seconds')).toBe(0);
  });

  it('the gauges count a backlog held by Retry-After, then drain to zero', async () => {
    const channel = 'C-held';
    server.inject({ status: 429, retryAfter: 2, count: 1, channel });
    for (let i = 0; i < 3; i++) await main.outbox.send({ op: 'post', key: `held:${i}`, channel, message: { text: `h${i}` } });
    await waitFor(() => server.calls.some((c) => to(channel)(c) && c.status === 429), { timeoutMs: 5000, what: 'the 429' });
    await sleep(600);
    // Held (delayed) messages are pending too, and the oldest has waited since it was sent.
    expect(await metricValue(main.registry, 'vigil_slack_outbox_depth')).toBe(3);
    expect(await metricValue(main.registry, 'vigil_slack_outbox_oldest_age_seconds')).toBeGreaterThanOrEqual(0.5);
    await waitFor(() => posted(channel).length >= 3, { timeoutMs: 10_000, what: 'the held messages' });
    expect(texts(posted(channel))).toEqual(['h0', 'h1', 'h2']);
    expect(violationsIn(channel)).toEqual([]);
    await waitFor(async () => (await metricValue(main.registry, 'vigil_slack_outbox_depth')) === 0, { timeoutMs: 5000, what: 'an empty queue' });
    expect(await metricValue(main.registry, 'vigil_slack_outbox_oldest_age_seconds')).toBe(0);
  });

  it('updates a message by the key it was posted with, even when sent before the post went out', async () => {
    const channel = 'C-update';
    await main.outbox.send({ op: 'post', key: 'alert:g-upd:post', channel, message: { text: 'firing' } });
    // The outbox renders the neutral message: a reply becomes Block Kit, its title the fallback text.
    const blocks = [{ type: 'header', text: { type: 'plain_text', text: 'resolved', emoji: true } }];
    const sent = await main.outbox.send({ op: 'update', key: 'alert:g-upd:update:1', ref: 'alert:g-upd:post', message: { reply: { title: 'resolved', status: 'ok' } } });
    const updates = () => server.calls.filter((c) => c.method === 'chat.update' && to(channel)(c));
    await waitFor(() => updates().some((c) => c.status === 200), { timeoutMs: 10_000, what: 'the update' });

    const ref = await main.outbox.messageRef('alert:g-upd:post');
    expect(ref).toEqual({ channel, ts: posted(channel)[0]?.response.ts });
    const update = server.calls.find((c) => c.method === 'chat.update' && to(channel)(c));
    expect(update?.body).toMatchObject({ channel, ts: ref?.ts, text: 'resolved', blocks });
    const { rows } = await pool.query("SELECT updated_at IS NOT NULL AS updated FROM vigil.slack_messages WHERE key = 'alert:g-upd:post'");
    expect(rows[0]).toEqual({ updated: true });

    // An update is not recorded in Postgres: its done marker alone keeps it from being applied twice,
    // whether its job runs again (as after a crash) or is gone and the key is sent again.
    const queue = queueFor(prefix);
    const job = await queue.getJob(sent.jobId);
    await waitFor(async () => (await job?.getState()) === 'completed', { timeoutMs: 5000, what: 'the update job to complete' });
    await job?.retry('completed');
    await waitFor(async () => (await job?.getState()) === 'completed', { timeoutMs: 5000, what: 'the re-run to complete' });
    await queue.remove(sent.jobId);
    expect((await main.outbox.send({ op: 'update', key: 'alert:g-upd:update:1', ref: 'alert:g-upd:post', message: { text: 'resolved' } })).duplicate).toBe(true);
    await sleep(200);
    expect(updates()).toHaveLength(1);

    await expect(main.outbox.send({ op: 'update', key: 'u:nothing', ref: 'no-such-key', message: { text: 'x' } })).rejects.toThrow(/No Slack message with key no-such-key/);
  });

  it('sends only the newest of the updates of one message still waiting in line', async () => {
    const channel = 'C-coalesce';
    // The channel is held by a Retry-After while the changes pile up behind the post.
    server.inject({ status: 429, retryAfter: 2, count: 1, channel });
    await main.outbox.send({ op: 'post', key: 'storm:post', channel, message: { text: 'v0' } });
    await waitFor(() => server.calls.some((c) => to(channel)(c) && c.status === 429), { timeoutMs: 5000, what: 'the 429' });
    for (let v = 1; v <= 10; v++) await main.outbox.send({ op: 'update', key: `storm:v${v}`, ref: 'storm:post', message: { text: `v${v}` } });
    const updates = () => server.calls.filter((c) => c.method === 'chat.update' && to(channel)(c));
    await waitFor(() => updates().length > 0, { timeoutMs: 10_000, what: 'an update' });
    await sleep(300);
    expect(updates().map((c) => c.body.text)).toEqual(['v10']);
    expect(server.topLevel(channel).map((m) => m.text)).toEqual(['v10']);
    expect(await metricValue(main.registry, 'vigil_slack_outbox_duplicates_total', { stage: 'superseded' })).toBeGreaterThanOrEqual(9);
  });

  it('replies in the thread of the message posted with the parent key', async () => {
    const channel = 'C-thread';
    await main.outbox.send({ op: 'post', key: 'alert:g-thr:post', channel, message: { text: 'parent' } });
    await main.outbox.send({ op: 'post', key: 'alert:g-thr:reply:1', channel, threadOf: 'alert:g-thr:post', message: { text: 'reply' } });
    await waitFor(() => posted(channel).length >= 2, { timeoutMs: 10_000, what: 'parent and reply' });
    const [parent, reply] = posted(channel);
    expect(parent?.body.thread_ts).toBeUndefined();
    expect(reply?.body).toMatchObject({ text: 'reply', thread_ts: parent?.response.ts });
    const { rows } = await pool.query("SELECT thread_ts FROM vigil.slack_messages WHERE key = 'alert:g-thr:reply:1'");
    expect(rows[0]).toEqual({ thread_ts: parent?.response.ts });

    await expect(main.outbox.send({ op: 'post', key: 'r:2', channel: 'C-elsewhere', threadOf: 'alert:g-thr:post', message: { text: 'x' } })).rejects.toThrow(
      /parent's channel \(C-thread\)/,
    );
    await expect(main.outbox.send({ op: 'post', key: 'r:3', channel, threadOf: 'no-parent', message: { text: 'x' } })).rejects.toThrow(/No Slack message/);
  });

  it('a permanent Slack error fails that message at once and the next one in the channel still goes out', async () => {
    const channel = 'C-gone';
    server.inject({ error: 'channel_not_found', count: 1, channel });
    const bad = await main.outbox.send({ op: 'post', key: 'perm:1', channel, message: { text: 'lost' } });
    await main.outbox.send({ op: 'post', key: 'perm:2', channel, message: { text: 'after' } });
    await waitFor(() => posted(channel).length >= 1, { timeoutMs: 10_000, what: 'the next message' });
    expect(texts(posted(channel))).toEqual(['after']);
    const job = await queueFor(prefix).getJob(bad.jobId);
    expect(await job?.getState()).toBe('failed');
    expect(job?.failedReason).toBe('channel_not_found');
    // Not retried: one request for the failed message.
    expect(server.calls.filter((c) => to(channel)(c) && c.body.text === 'lost')).toHaveLength(1);
    expect(await metricValue(main.registry, 'vigil_slack_writes_total', { method: 'chat.postMessage', outcome: 'permanent' })).toBeGreaterThanOrEqual(1);
    // It left the line itself; the next message did not have to find it failed and drop it.
    expect(staleHeadsDropped(channel)).toEqual([]);
  });

  it('a message whose retries are used up does not wedge its channel', async () => {
    const few = replica({ prefix: newPrefix(), retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 100 } });
    await few.outbox.startWorker();
    const channel = 'C-exhausted';
    server.inject({ status: 503, count: 3, channel, method: 'chat.postMessage' });
    await few.outbox.send({ op: 'post', key: 'ex:1', channel, message: { text: 'given up' } });
    await few.outbox.send({ op: 'post', key: 'ex:2', channel, message: { text: 'next' } });
    await waitFor(() => posted(channel).length >= 1, { timeoutMs: 15_000, what: 'the next message' });
    expect(texts(posted(channel))).toEqual(['next']);
    expect(server.calls.filter((c) => to(channel)(c) && c.body.text === 'given up').map((c) => c.status)).toEqual([503, 503, 503]);
    expect(await metricValue(few.registry, 'vigil_slack_writes_total', { method: 'chat.postMessage', outcome: 'retryable' })).toBe(3);
    expect(staleHeadsDropped(channel)).toEqual([]);
  });

  it('drops a line head whose job was removed, so the channel keeps moving', async () => {
    const cliPrefix = newPrefix();
    const cli = replica({ prefix: cliPrefix });
    const channel = 'C-stale';
    const removed = await cli.outbox.send({ op: 'post', key: 'stale:1', channel, message: { text: 'removed' } });
    await cli.outbox.send({ op: 'post', key: 'stale:2', channel, message: { text: 'kept' } });
    await queueFor(cliPrefix).remove(removed.jobId);
    await cli.outbox.startWorker();
    await waitFor(() => posted(channel).length >= 1, { timeoutMs: 10_000, what: 'the kept message' });
    expect(texts(posted(channel))).toEqual(['kept']);
    expect(staleHeadsDropped(channel)).toHaveLength(1);
  });

  it('fails a job whose data is not an outbox message, without sending anything', async () => {
    const queue = queueFor(prefix);
    const job = await queue.add('post', { op: 'post', channel: 'C-bad', text: 'no seq, no key' }, { jobId: 'msg-bad-data', attempts: 3 });
    await waitFor(async () => (await job.getState()) === 'failed', { timeoutMs: 10_000, what: 'the bad job to fail' });
    const failed = await queue.getJob('msg-bad-data');
    expect(failed?.failedReason).toMatch(/^invalid outbox job data/);
    expect(failed?.attemptsMade).toBe(1);
    expect(server.calls.filter(to('C-bad'))).toEqual([]);
  });
});
