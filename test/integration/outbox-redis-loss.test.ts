import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pools.ts';
import { createQueueConnection } from '../../src/db/redis-clients.ts';
import { createSlackClient } from '../../src/slack/client.ts';
import { createOutbox, type Outbox } from '../../src/slack/outbox/outbox.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { startSlackApiServer, type SlackApiServer } from '../support/slack-api-server.ts';
import { sleep, waitFor } from '../support/wait.ts';

/**
 * Redis is a wake-up, Postgres the truth: messages the outbox accepted survive Redis losing every
 * key (a restart without persistence, a failover): the reconciler puts them back in line, in their
 * order, each delivered once, and a message sent after the loss that follows a lost one (an update,
 * a thread reply) waits for it instead of failing. Redis's loss is every key under the outbox's
 * prefix deleted, which is what a restart without persistence leaves of it.
 */
const TOKEN = `xoxb-loss-${randomBytes(6).toString('hex')}`;
const log = pino({ level: 'silent' });

let db: TestDatabase;
let pool: pg.Pool;
let server: SlackApiServer;
let admin: Redis;
const prefixes: string[] = [];
const connections: Redis[] = [];
const outboxes: Outbox[] = [];

function replica(prefix: string): { outbox: Outbox; registry: Registry } {
  const connection = createQueueConnection(TEST_REDIS_URL, log);
  connections.push(connection);
  const registry = new Registry();
  const client = createSlackClient({ token: TOKEN, slackApiUrl: `${server.url}/api/`, log, timeoutMs: 5000 });
  const outbox = createOutbox({ connection, prefix, db: pool, client, pace: { perSecond: 40, burst: 3 }, metrics: registry, log, retry: { attempts: 10, baseDelayMs: 100, maxDelayMs: 500 } });
  outboxes.push(outbox);
  return { outbox, registry };
}

function newPrefix(): string {
  const prefix = uniqueName('loss');
  prefixes.push(prefix);
  return prefix;
}

async function requeued(registry: Registry): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'vigil_slack_outbox_requeued_total');
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

beforeAll(async () => {
  db = await createTestDatabase('outbox_loss');
  pool = createPool(db.url, { name: 'vigil-outbox-loss-test', max: 4, onIdleError: () => undefined });
  await migrate(pool);
  server = await startSlackApiServer({ perChannelPerSecond: 50, burst: 5 });
  admin = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  await Promise.all(outboxes.map((o) => o.close()));
  for (const p of prefixes) await deleteKeysUnder(admin, p);
  await Promise.all([...connections, admin].map((c) => c.quit()));
  await pool.end();
  await server.close();
  await db.drop();
});

describe('the Slack outbox when Redis loses everything', () => {
  it('puts every accepted message back in line, in order, each delivered once, updates and replies after their message', { timeout: 60_000 }, async () => {
    const prefix = newPrefix();
    const { outbox, registry } = replica(prefix);
    const channel = 'C-LOSS';
    const n = 20;
    // Accepted while no worker runs (a bot restarting): all of it waits in Redis…
    for (let i = 0; i < n; i++) await outbox.send({ op: 'post', key: `loss:${i}`, channel, message: { text: `m${i}` } });
    for (let i = 0; i < 5; i++) await outbox.send({ op: 'update', key: `loss:${i}:v2`, ref: `loss:${i}`, message: { text: `m${i} v2` } });
    for (let i = 5; i < 10; i++) await outbox.send({ op: 'post', key: `loss:${i}:reply`, channel, threadOf: `loss:${i}`, message: { text: `r${i}` } });
    // …and Redis comes back empty.
    await deleteKeysUnder(admin, prefix);
    expect(await admin.keys(`${prefix}:*`)).toEqual([]);

    // A key accepted before the loss is still a duplicate: Postgres remembers it.
    expect((await outbox.send({ op: 'post', key: 'loss:0', channel, message: { text: 'm0 again' } })).duplicate).toBe(true);
    await outbox.startWorker();
    expect(await outbox.reconcile(0)).toMatchObject({ requeued: n + 10 });
    await waitFor(() => server.messages(channel).filter((m) => m.threadTs === undefined).length === n && server.messages(channel).length === n + 5, {
      timeoutMs: 20_000,
      what: 'every post and reply delivered',
    });
    const top = server.topLevel(channel);
    await waitFor(() => top.slice(0, 5).every((m, i) => m.text === `m${i} v2`), { timeoutMs: 10_000, what: 'the updates applied' });
    expect(top.map((m) => m.text)).toEqual(Array.from({ length: n }, (_, i) => (i < 5 ? `m${i} v2` : `m${i}`)));
    for (let i = 5; i < 10; i++) expect(server.replies(channel, top[i]?.ts ?? '').map((m) => m.text)).toEqual([`r${i}`]);
    expect(await requeued(registry)).toBe(n + 10);

    // Everything delivered is closed: another round finds nothing to put back.
    await sleep(300);
    expect(await outbox.reconcile(0)).toMatchObject({ requeued: 0 });
    const open = await pool.query('SELECT count(*)::int AS n FROM vigil.outbox_messages WHERE finished_at IS NULL');
    expect(open.rows[0]).toEqual({ n: 0 });
    expect(server.violations.filter((v) => v.scope === channel)).toEqual([]);
  });

  it('an update sent after the loss, before any reconcile, brings its lost message back first instead of failing', { timeout: 30_000 }, async () => {
    const prefix = newPrefix();
    const { outbox } = replica(prefix);
    const channel = 'C-LOSS-PARENT';
    await outbox.send({ op: 'post', key: 'parent:1', channel, message: { text: 'first' } });
    await deleteKeysUnder(admin, prefix);
    await outbox.startWorker();
    // The post's job is gone; Postgres still knows where it goes, so the update is accepted…
    expect((await outbox.send({ op: 'update', key: 'parent:1:v2', ref: 'parent:1', message: { text: 'second' } })).duplicate).toBe(false);
    // …and delivered after its message, which it put back in line.
    await waitFor(() => server.topLevel(channel)[0]?.text === 'second', { timeoutMs: 15_000, what: 'the post, then its update' });
    expect(server.topLevel(channel)).toHaveLength(1);
  });
});

describe('the Slack outbox when Slack accepted a post but its answer was lost', () => {
  it('finds the post by its key before posting again: once each, top level and in a thread, and later updates reach it', { timeout: 30_000 }, async () => {
    const { outbox } = replica(newPrefix());
    await outbox.startWorker();
    const channel = 'C-LOST-ANSWER';
    // Slack posts it, and the connection drops before the answer: the worker sees a network error.
    server.inject({ lostAnswer: true, method: 'chat.postMessage', channel, count: 1 });
    await outbox.send({ op: 'post', key: 'lost:1', channel, message: { text: 'once' } });
    await waitFor(async () => (await outbox.messageRef('lost:1')) !== null, { timeoutMs: 15_000, what: 'the post recorded' });
    expect(server.messages(channel).map((m) => m.text)).toEqual(['once']);
    expect(server.calls.filter((c) => c.method === 'chat.postMessage' && c.body.channel === channel).map((c) => c.status)).toEqual([0]);
    expect(await outbox.messageRef('lost:1')).toEqual({ channel, ts: server.messages(channel)[0]?.ts });

    server.inject({ lostAnswer: true, method: 'chat.postMessage', channel, count: 1 });
    await outbox.send({ op: 'post', key: 'lost:1:reply', channel, threadOf: 'lost:1', message: { text: 'in the thread' } });
    await outbox.send({ op: 'update', key: 'lost:1:v2', ref: 'lost:1', message: { text: 'once, updated' } });
    await waitFor(() => server.topLevel(channel)[0]?.text === 'once, updated', { timeoutMs: 15_000, what: 'the update' });
    expect(server.replies(channel, server.topLevel(channel)[0]?.ts ?? '').map((m) => m.text)).toEqual(['in the thread']);
    await sleep(300);
    expect(server.messages(channel)).toHaveLength(2);
  });
});
