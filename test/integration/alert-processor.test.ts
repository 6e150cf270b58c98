/**
 * The alert processor against the real Postgres and Redis: a notification whose messages cannot
 * be handed to the outbox (Redis away) stays stored, is retried, and is posted once Redis answers;
 * a firing group whose alerts' annotations change gets its message updated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type pg from 'pg';
import { createAlertMetrics } from '../../src/alerts/metrics.ts';
import { createAlertProcessor } from '../../src/alerts/processor.ts';
import { storeNotification } from '../../src/alerts/store.ts';
import { createNotificationWriter } from '../../src/alerts/notification-writer.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pools.ts';
import { createQueueConnection } from '../../src/db/redis-clients.ts';
import { createSlackClient } from '../../src/slack/client.ts';
import { createOutbox, type Outbox } from '../../src/slack/outbox/outbox.ts';
import type { AlertInstance } from '../../src/alerts/notification.ts';
import { alertsConfig, alert, snapshot } from '../unit/alerts/fixtures.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { blockText, startSlackApiServer, type SlackApiServer, type StoredMessage } from '../support/slack-api-server.ts';
import { waitFor } from '../support/wait.ts';

const log = pino({ level: 'silent' });
let db: TestDatabase;
let pool: pg.Pool;
let slack: SlackApiServer;
let prefix: string;
const connections: Redis[] = [];
const outboxes: Outbox[] = [];

function outboxOn(redisUrl: string): Outbox {
  const connection = createQueueConnection(redisUrl, log);
  connections.push(connection);
  const client = createSlackClient({ token: 'xoxb-processor-test', slackApiUrl: `${slack.url}/api/`, log, timeoutMs: 5000 });
  const outbox = createOutbox({ connection, prefix, db: pool, client, pace: { perSecond: 20, burst: 5 }, metrics: new Registry(), log });
  outboxes.push(outbox);
  return outbox;
}

beforeAll(async () => {
  db = await createTestDatabase('alert_processor');
  pool = createPool(db.url, { name: 'alert-processor-test', max: 4, onIdleError: () => undefined });
  await migrate(pool);
  slack = await startSlackApiServer({ perChannelPerSecond: 25, burst: 5 });
  prefix = uniqueName('processor');
});

afterAll(async () => {
  for (const o of outboxes) await o.close();
  for (const c of connections) c.disconnect();
  await pool.end();
  await db.drop();
  await slack.close();
  const { Redis: RedisClient } = await import('ioredis');
  const redis = new RedisClient(TEST_REDIS_URL);
  await deleteKeysUnder(redis, prefix);
  redis.disconnect();
});

describe('notification writer (group commit)', () => {
  it('stores a burst of concurrent notifications, each answered with its own row', async () => {
    const writer = createNotificationWriter(pool);
    const sent = Array.from({ length: 120 }, (_, i) => snapshot([alert(`burst-${i}`)], { groupKey: `{}:{burst="${i}"}` }));
    const stored = await Promise.all(sent.map((n) => writer.store(n)));
    expect(new Set(stored.map((s) => s.id)).size).toBe(120);
    const { rows } = await pool.query<{ id: string; key: string }>("SELECT id, payload->>'groupKey' AS key FROM vigil.alert_notifications WHERE id = ANY($1::bigint[])", [stored.map((s) => s.id)]);
    const keyById = new Map(rows.map((r) => [Number(r.id), r.key]));
    stored.forEach((s, i) => expect(keyById.get(s.id)).toBe(`{}:{burst="${i}"}`));
    await pool.query("DELETE FROM vigil.alert_notifications WHERE payload->>'groupKey' LIKE '{}:{burst=%'");
  });
});

describe('alert processor', () => {
  it('keeps a notification it could not hand to the outbox, and posts it once Redis answers', async () => {
    const cfg = alertsConfig();
    const metrics = createAlertMetrics(new Registry(), []);
    // Nothing listens on port 1: every Redis command of this outbox waits, then times out.
    const down = createAlertProcessor({ pool, outbox: outboxOn('redis://127.0.0.1:1'), cfg, log, metrics, sendTimeoutMs: 300 });
    await storeNotification(pool, snapshot([alert('api-1')]));
    expect(await down.drain()).toBe(1);
    const { rows } = await pool.query<{ processed_at: Date | null; attempts: number; last_error: string }>('SELECT processed_at, attempts, last_error FROM vigil.alert_notifications');
    expect(rows[0]).toMatchObject({ processed_at: null, attempts: 1 });
    expect(rows[0]?.last_error).toMatch(/Slack outbox.*(timed out|did not answer)/i);
    expect(slack.messages()).toEqual([]);
    // A failed notification waits its backoff; nothing else is due meanwhile.
    expect(await down.drain()).toBe(0);

    const up = createAlertProcessor({ pool, outbox: outboxOn(TEST_REDIS_URL), cfg, log, metrics });
    await pool.query('UPDATE vigil.alert_notifications SET next_attempt_at = now()');
    expect(await up.drain()).toBe(1);
    const worker = outboxes[outboxes.length - 1] as Outbox;
    await worker.startWorker();
    await waitFor(() => slack.topLevel('C0CRIT').length === 1, { what: 'the post once Redis answers' });
    const after = await pool.query<{ processed_at: Date | null; attempts: number }>('SELECT processed_at, attempts FROM vigil.alert_notifications');
    expect(after.rows[0]?.processed_at).not.toBeNull();
    expect(after.rows[0]?.attempts).toBe(2);
  });
});

describe('a group whose older notification waits to be retried', () => {
  it('applies the newer one only after it: the group is shown firing, then resolved', async () => {
    const cfg = alertsConfig();
    const metrics = createAlertMetrics(new Registry(), []);
    const labels = { alertname: 'OrderKept', severity: 'critical', instance: 'o-1' };
    const group = (status: 'firing' | 'resolved') =>
      snapshot([alert('o-1', status, { labels })], { groupKey: '{}:{alertname="OrderKept"}', groupLabels: { alertname: 'OrderKept' }, commonLabels: { alertname: 'OrderKept', severity: 'critical' } });
    const shown = async (groupId: string) =>
      (await pool.query<{ status: string; message_key: string | null }>('SELECT status, message_key FROM vigil.alert_groups WHERE group_id = $1', [groupId])).rows[0];

    // The firing fails (Redis away) and waits its backoff.
    const down = createAlertProcessor({ pool, outbox: outboxOn('redis://127.0.0.1:1'), cfg, log, metrics, sendTimeoutMs: 300 });
    const firing = await storeNotification(pool, group('firing'));
    expect(await down.drain()).toBe(1);
    // Its resolve comes meanwhile, and a replica that can send is up: the resolve waits its turn.
    await storeNotification(pool, group('resolved'));
    const up = createAlertProcessor({ pool, outbox: outboxOn(TEST_REDIS_URL), cfg, log, metrics });
    expect(await up.drain()).toBe(0);
    expect(await shown(firing.groupId)).toBeUndefined();

    await pool.query('UPDATE vigil.alert_notifications SET next_attempt_at = now() WHERE id = $1', [firing.id]);
    expect(await up.drain()).toBe(2);
    // Shown (a message), then resolved: not "first seen resolved" with nothing to show.
    expect(await shown(firing.groupId)).toEqual({ status: 'resolved', message_key: expect.stringMatching(/^alert:/) });
  });
});

describe('a firing group whose annotations change', () => {
  // Its own alert name, severity and channel, apart from the other tests' group.
  const labels = (instance: string) => ({ alertname: 'DiskFilling', severity: 'warning', instance });
  const disk = (instance: string, summary: string, description: string): AlertInstance =>
    alert(instance, 'firing', { labels: labels(instance), annotations: { summary, description } });
  const group = (summary: string, alerts: AlertInstance[]) =>
    snapshot(alerts, {
      groupKey: '{}:{alertname="DiskFilling"}',
      groupLabels: { alertname: 'DiskFilling' },
      commonLabels: { alertname: 'DiskFilling', severity: 'warning' },
      // What Alertmanager sends: the annotations every alert shares (the descriptions differ).
      commonAnnotations: { summary },
    });
  const version = async (groupId: string) =>
    (await pool.query<{ version: number }>('SELECT version FROM vigil.alert_groups WHERE group_id = $1', [groupId])).rows[0]?.version;

  it('updates its message when only annotations change (same labels, same alerts)', async () => {
    const outbox = outboxOn(TEST_REDIS_URL);
    await outbox.startWorker();
    const processor = createAlertProcessor({ pool, outbox, cfg: alertsConfig(), log, metrics: createAlertMetrics(new Registry(), []) });
    const disk2 = disk('disk-2', 'Disk above 90%', '/var on disk-2 is 92% full');

    const first = await storeNotification(pool, group('Disk above 90%', [disk('disk-1', 'Disk above 90%', '/var on disk-1 is 91% full'), disk2]));
    await processor.drain();
    await waitFor(() => slack.topLevel('C0WARN').length === 1, { what: 'the group posted' });
    const message = slack.topLevel('C0WARN')[0] as StoredMessage;
    expect(blockText(message.blocks)).toContain('/var on disk-1 is 91% full');

    // The same snapshot again (a repeat, an HA peer) changes nothing: the digest is what decides.
    await storeNotification(pool, group('Disk above 90%', [disk('disk-1', 'Disk above 90%', '/var on disk-1 is 91% full'), disk2]));
    await processor.drain();
    expect(await version(first.groupId)).toBe(1);

    // One alert's description changes; labels and common annotations stay the same.
    await storeNotification(pool, group('Disk above 90%', [disk('disk-1', 'Disk above 90%', '/var on disk-1 is 97% full'), disk2]));
    await processor.drain();
    expect(await version(first.groupId)).toBe(2);
    await waitFor(() => message.updates === 1, { what: 'the message updated with the new description' });
    expect(blockText(message.blocks)).toContain('/var on disk-1 is 97% full');

    // The summary every alert shares changes (so the common annotations too).
    await storeNotification(
      pool,
      group('Disk above 95%', [disk('disk-1', 'Disk above 95%', '/var on disk-1 is 97% full'), disk('disk-2', 'Disk above 95%', '/var on disk-2 is 92% full')]),
    );
    await processor.drain();
    expect(await version(first.groupId)).toBe(3);
    await waitFor(() => message.updates === 2, { what: 'the message updated with the new summary' });
    expect(blockText(message.blocks)).toContain('Disk above 95%');
    expect(slack.topLevel('C0WARN')).toHaveLength(1);
  });
});

describe('a silenced group', () => {
  it('shows every change on its message but stays quiet in its thread', async () => {
    const outbox = outboxOn(TEST_REDIS_URL);
    await outbox.startWorker();
    const cfg = alertsConfig({ channels: { default: 'C0QUIET' }, cooldownSeconds: { default: 0 } });
    const processor = createAlertProcessor({ pool, outbox, cfg, log, metrics: createAlertMetrics(new Registry(), []) });
    const quiet = (instance: string) => alert(instance, 'firing', { labels: { alertname: 'QuietGroup', severity: 'warning', instance } });
    const group = (alerts: AlertInstance[]) =>
      snapshot(alerts, { groupKey: '{}:{alertname="QuietGroup"}', groupLabels: { alertname: 'QuietGroup' }, commonLabels: { alertname: 'QuietGroup', severity: 'warning' } });
    const first = await storeNotification(pool, group([quiet('q-1')]));
    await processor.drain();
    await waitFor(() => slack.topLevel('C0QUIET').length === 1, { what: 'the group posted' });
    const message = slack.topLevel('C0QUIET')[0] as StoredMessage;

    const silence = { source: 'alertmanager', ids: ['s-quiet'], createdBy: 'bob', endsAt: Date.now() + 3_600_000, comment: 'maintenance', matchers: 'alertname="QuietGroup"' };
    await pool.query('UPDATE vigil.alert_groups SET silence = $2::jsonb WHERE group_id = $1', [first.groupId, JSON.stringify(silence)]);
    await storeNotification(pool, group([quiet('q-1'), quiet('q-2')]));
    await processor.drain();
    await waitFor(() => blockText(message.blocks).includes('instance=q-2'), { what: 'the message showing the alert that joined' });
    expect(blockText(message.blocks)).toContain('Silenced in Alertmanager by bob');

    // Unsilenced, the next change is replied to in the thread as usual.
    await pool.query('UPDATE vigil.alert_groups SET silence = NULL WHERE group_id = $1', [first.groupId]);
    await storeNotification(pool, group([quiet('q-1'), quiet('q-2'), quiet('q-3')]));
    await processor.drain();
    await waitFor(() => slack.replies('C0QUIET', message.ts).length === 1, { what: 'the thread reply once unsilenced' });
    expect(slack.replies('C0QUIET', message.ts)[0]?.text).toContain('instance=q-3');
  });
});
