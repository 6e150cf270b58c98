/**
 * Replicas that cannot post (a shell, an instance without Slack) beside one that can, on the real
 * Postgres and Redis: they leave notifications, rule ticks and housekeeping to the poster while it
 * is alive, and never apply a notification to a group Slack already shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type pg from 'pg';
import { createAlertMetrics } from '../../src/alerts/metrics.ts';
import { createPosterPresence, posterKey } from '../../src/alerts/poster-presence.ts';
import { createAlertProcessor } from '../../src/alerts/processor.ts';
import { loadGroup, storeNotification } from '../../src/alerts/store.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pools.ts';
import { createSchedule } from '../../src/schedules/schedule.ts';
import { alert, alertsConfig, snapshot } from '../unit/alerts/fixtures.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';

const log = pino({ level: 'silent' });
let db: TestDatabase;
let pool: pg.Pool;
let redis: Redis;
let prefix: string;

beforeAll(async () => {
  db = await createTestDatabase('poster_presence');
  pool = createPool(db.url, { name: 'poster-presence-test', max: 4, onIdleError: () => undefined });
  await migrate(pool);
  redis = new Redis(TEST_REDIS_URL);
  prefix = uniqueName('presence');
});

afterAll(async () => {
  await pool.end();
  await db.drop();
  await deleteKeysUnder(redis, prefix);
  redis.disconnect();
});

const pending = async (groupKey: string) =>
  (await pool.query<{ processed: boolean; last_error: string | null }>("SELECT processed_at IS NOT NULL AS processed, last_error FROM vigil.alert_notifications WHERE payload->>'groupKey' = $1 ORDER BY id", [groupKey])).rows;

describe('a replica that cannot post', () => {
  it('leaves notifications to a poster that is alive, and takes them when none is', async () => {
    const presence = createPosterPresence({ redis, keyPrefix: prefix, posts: false });
    const cfg = alertsConfig();
    const processor = createAlertProcessor({ pool, outbox: null, cfg, log, metrics: createAlertMetrics(new Registry(), Object.keys(cfg.channels)), mayClaim: () => presence.mayClaim() });
    const poster = createPosterPresence({ redis, keyPrefix: prefix, posts: true });
    await poster.start();
    try {
      expect(await poster.mayClaim()).toBe(true);
      const groupKey = '{}:{alertname="LeftToPoster"}';
      await storeNotification(pool, snapshot([alert('p-1')], { groupKey }));
      expect(await presence.mayClaim()).toBe(false);
      expect(await processor.drain()).toBe(0);
      expect(await pending(groupKey)).toEqual([{ processed: false, last_error: null }]);
    } finally {
      await poster.stop();
    }
    // The poster is gone (its key expires; here removed at once): the Slack-less replica tracks the group.
    await redis.del(posterKey(prefix));
    await new Promise((r) => setTimeout(r, 2100)); // past the read cache
    expect(await presence.mayClaim()).toBe(true);
    expect(await processor.drain()).toBeGreaterThanOrEqual(1);
    expect((await pending('{}:{alertname="LeftToPoster"}'))[0]?.processed).toBe(true);
  });

  it('never applies a notification to a group Slack shows: it waits for a replica that can update the message', async () => {
    const cfg = alertsConfig();
    const groupKey = '{}:{alertname="ShownInSlack"}';
    const stored = await storeNotification(pool, snapshot([alert('s-1')], { groupKey }));
    const metrics = createAlertMetrics(new Registry(), Object.keys(cfg.channels));
    const tracker = createAlertProcessor({ pool, outbox: null, cfg, log, metrics });
    await tracker.drain();
    // As if a Slack replica had posted it.
    await pool.query("UPDATE vigil.alert_groups SET message_key = 'alert:x:1' WHERE group_id = $1", [stored.groupId]);
    await storeNotification(pool, snapshot([alert('s-1', 'resolved')], { groupKey }));
    await tracker.drain();
    expect((await loadGroup(pool, stored.groupId))?.status).toBe('firing');
    expect((await pending(groupKey))[1]).toEqual({ processed: false, last_error: 'waiting for a replica that can update its Slack message' });
  });

  it('leaves schedule ticks to the others without claiming them', async () => {
    const ranOn: string[] = [];
    const schedule = (who: string, eligible: boolean) =>
      createSchedule({ name: 'presence-tick', cron: '0 0 1 1 *', redis, keyPrefix: prefix, log, eligible: async () => eligible, run: async () => void ranOn.push(who) });
    const shell = schedule('shell', false);
    const bot = schedule('bot', true);
    expect(await shell.runNow()).toBe('skipped_ineligible');
    expect(await bot.runNow()).toBe('ran');
    expect(ranOn).toEqual(['bot']);
  });
});

describe('a processor whose Postgres is away', () => {
  it('says so once, not once a second per loop', async () => {
    const lines: string[] = [];
    const capture = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const away = createPool('postgres://postgres@127.0.0.1:1/nowhere', { name: 'away', max: 2, onIdleError: () => undefined });
    const cfg = alertsConfig();
    const processor = createAlertProcessor({ pool: away, outbox: null, cfg, log: capture, metrics: createAlertMetrics(new Registry(), Object.keys(cfg.channels)), pollMs: 200 });
    await processor.start();
    await new Promise((r) => setTimeout(r, 2000));
    await processor.stop();
    await away.end();
    const said = lines.filter((l) => l.includes('cannot read stored notifications'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('ECONNREFUSED');
  });
});
