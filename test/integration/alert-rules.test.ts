import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { pino } from 'pino';
import { notificationSchema, type Notification } from '../../src/alerts/notification.ts';
import { evaluateRules } from '../../src/alerts/rules/evaluate.ts';
import { createRuleSchedule } from '../../src/alerts/rules/rule-schedule.ts';
import { loadRuleState, ruleStateKey, saveRuleState } from '../../src/alerts/rules/rule-state-store.ts';
import { storeNotification, TABLES } from '../../src/alerts/store.ts';
import { fileSchema, type AlertRule } from '../../src/config/file.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pools.ts';
import { connectProbeRedis } from '../../src/db/redis-clients.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { createHealthService } from '../../src/probes/health.ts';
import { createQueueInspector, type QueueInspector } from '../../src/probes/queue-inspector.ts';
import type { Schedule } from '../../src/schedules/schedule.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';

/**
 * Vigil's own alert rules end to end on the machine's services: real BullMQ queues under a random
 * prefix, a real HealthService probing them (and the test database), the rules' state in Redis and
 * notifications stored in Postgres through the same storeNotification the Alertmanager intake uses.
 * Each test has its own rule name (its alert group) and its own Vigil key prefix (its state).
 */
const bullPrefix = uniqueName('rules_bull');
const vigilPrefixes: string[] = [];
const silent = createLogger('silent');

let db: TestDatabase;
let pool: pg.Pool;
let producerConnection: Redis;
const probeClients: Redis[] = [];
const inspectors: QueueInspector[] = [];
const queues: Queue[] = [];

beforeAll(async () => {
  db = await createTestDatabase('rules');
  pool = createPool(db.url, { max: 5, name: 'vigil-test-rules', onIdleError: () => undefined });
  await migrate(pool);
  producerConnection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  await Promise.all(queues.map((q) => q.close()));
  await Promise.all(inspectors.map((i) => i.close()));
  await deleteKeysUnder(producerConnection, bullPrefix);
  for (const p of vigilPrefixes) await deleteKeysUnder(producerConnection, p);
  for (const c of probeClients) c.disconnect();
  producerConnection.disconnect();
  await pool.end();
  await db.drop();
});

function vigilPrefix(): string {
  const p = uniqueName('rules');
  vigilPrefixes.push(p);
  return p;
}

function rule(raw: Record<string, unknown>): AlertRule {
  const parsed = fileSchema.parse({ alerts: { channels: { default: 'C0DEFAULT' }, rules: [raw] } }).alerts?.rules[0];
  if (!parsed) throw new Error('rule missing');
  return parsed;
}

const backlogRule = (name: string, target: string) =>
  rule({ name, severity: 'warning', probe: 'queue', target, measure: 'waiting', above: 5, for: '0s', cooldown: '0s' });

async function producer(name: string): Promise<Queue> {
  const q = new Queue(name, { connection: producerConnection, prefix: bullPrefix });
  queues.push(q);
  await q.waitUntilReady();
  return q;
}

async function fill(q: Queue, jobs: number): Promise<void> {
  await q.addBulk(Array.from({ length: jobs }, (_, i) => ({ name: `job-${i}`, data: { i } })));
}

/** One "replica": its own probe Redis connection, queue inspector and HealthService, as the container builds them. */
async function replica(opts: { rules: AlertRule[]; keyPrefix: string; store?: (n: Notification) => Promise<void>; log?: Logger }): Promise<Schedule> {
  const redis = await connectProbeRedis(TEST_REDIS_URL, silent);
  probeClients.push(redis);
  const inspector = createQueueInspector({ redis, prefix: bullPrefix });
  inspectors.push(inspector);
  const health = createHealthService({
    db: pool,
    redis,
    queues: inspector,
    thresholdsFor: () => ({ waiting: 1000, failed: 1 }),
    httpTargets: [],
    timeoutMs: 2000,
    missing: {},
  });
  return createRuleSchedule({
    rules: opts.rules,
    // Never fires during a test: every run here is runNow().
    cron: '0 0 1 1 *',
    health,
    redis,
    keyPrefix: opts.keyPrefix,
    store: opts.store ?? (async (n) => void (await storeNotification(pool, n))),
    log: opts.log ?? silent,
  });
}

/** The notifications stored for one rule's group, oldest first. */
async function stored(ruleName: string): Promise<Notification[]> {
  const { rows } = await pool.query<{ payload: unknown }>(`SELECT payload FROM ${TABLES.notifications} WHERE payload->>'groupKey' = $1 ORDER BY id`, [
    `vigil-rule:${ruleName}`,
  ]);
  return rows.map((r) => notificationSchema.parse(r.payload));
}

const alertsOf = (n: Notification | undefined) => (n?.alerts ?? []).map((a) => [a.labels.target, a.status]);

describe('alert rules over real queues', () => {
  it('fires when the backlog passes the threshold, stays quiet while it stays, resolves when drained', async () => {
    const q = await producer('backlog');
    const keyPrefix = vigilPrefix();
    const schedule = await replica({ rules: [backlogRule('Backlog', 'backlog')], keyPrefix });

    await fill(q, 6);
    expect(await schedule.runNow()).toBe('ran');
    const [fired, ...extra] = await stored('Backlog');
    expect(extra).toEqual([]);
    expect(fired).toMatchObject({
      source: 'vigil',
      receiver: 'vigil-rules',
      status: 'firing',
      commonLabels: { alertname: 'Backlog', severity: 'warning', probe: 'queue', target: 'backlog' },
    });
    expect(alertsOf(fired)).toEqual([['backlog', 'firing']]);
    expect(fired?.alerts[0]?.annotations.summary).toBe('queue backlog: waiting 6 > 5');

    // More jobs, same alert: nothing new for Slack.
    await fill(q, 3);
    expect(await schedule.runNow()).toBe('ran');
    expect(await stored('Backlog')).toHaveLength(1);

    await q.drain();
    expect(await schedule.runNow()).toBe('ran');
    const all = await stored('Backlog');
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({ status: 'resolved' });
    expect(alertsOf(all[1])).toEqual([['backlog', 'resolved']]);

    expect(await schedule.runNow()).toBe('ran');
    expect(await stored('Backlog')).toHaveLength(2);
    expect(schedule.stats()).toMatchObject({ ran: 4, failed: 0 });
    // Resolved and sent: nothing left to remember for the target.
    expect(await loadRuleState(probeClients[0] as Redis, keyPrefix)).toEqual({ Backlog: {} });
  });

  it('two replicas running at once store the firing notification once', async () => {
    const q = await producer('race');
    await fill(q, 8);
    const keyPrefix = vigilPrefix();
    const rules = [backlogRule('Race', 'race')];
    const [a, b] = await Promise.all([replica({ rules, keyPrefix }), replica({ rules, keyPrefix })]);

    const results = [];
    for (let round = 0; round < 5; round++) results.push(...(await Promise.all([a.runNow(), b.runNow()])));
    expect(results).toContain('ran');
    const all = await stored('Race');
    expect(all.map((n) => n.status)).toEqual(['firing']);
    expect(alertsOf(all[0])).toEqual([['race', 'firing']]);
  });

  it('a queue that disappears (obliterated) resolves its alert', async () => {
    const q = await producer('doomed');
    await fill(q, 7);
    const schedule = await replica({ rules: [backlogRule('Doomed', 'doomed')], keyPrefix: vigilPrefix() });
    await schedule.runNow();
    await q.obliterate({ force: true });
    await schedule.runNow();
    expect((await stored('Doomed')).map((n) => [n.status, alertsOf(n)])).toEqual([
      ['firing', [['doomed', 'firing']]],
      ['resolved', [['doomed', 'resolved']]],
    ]);
  });

  it('a store that fails leaves the state unsaved, so the next run sends the notification again', async () => {
    const q = await producer('flaky');
    await fill(q, 6);
    let failures = 1;
    const schedule = await replica({
      rules: [backlogRule('Flaky', 'flaky')],
      keyPrefix: vigilPrefix(),
      store: async (n) => {
        if (failures-- > 0) throw new Error('postgres went away');
        await storeNotification(pool, n);
      },
    });
    expect(await schedule.runNow()).toBe('ran');
    expect(schedule.stats().failed).toBe(1);
    expect(await stored('Flaky')).toEqual([]);
    await schedule.runNow();
    expect((await stored('Flaky')).map((n) => n.status)).toEqual(['firing']);
  });

  it('runs with no rules do nothing', async () => {
    const keyPrefix = vigilPrefix();
    const schedule = await replica({ rules: [], keyPrefix });
    expect(await schedule.runNow()).toBe('ran');
    expect(schedule.stats().failed).toBe(0);
    expect(await producerConnection.exists(ruleStateKey(keyPrefix))).toBe(0);
  });
});

describe('the rules state in Redis', () => {
  it('round-trips what evaluateRules produced', async () => {
    const keyPrefix = vigilPrefix();
    const { next } = evaluateRules(
      [backlogRule('RoundTrip', 'q')],
      [{ kind: 'queue', name: 'q', values: { waiting: 9 }, facts: {}, durationMs: 1, status: 'ok', breaches: [] }],
      {},
      Date.now(),
    );
    await saveRuleState(producerConnection, keyPrefix, next);
    expect(await loadRuleState(producerConnection, keyPrefix)).toEqual(next);
  });

  it('a corrupt or unreadable value is logged and read as empty', async () => {
    const keyPrefix = vigilPrefix();
    const lines: Array<{ msg: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    await producerConnection.set(ruleStateKey(keyPrefix), '{not json');
    expect(await loadRuleState(producerConnection, keyPrefix, log)).toEqual({});
    await producerConnection.set(ruleStateKey(keyPrefix), JSON.stringify({ Backlog: { q: { pendingSince: 'yesterday' } } }));
    expect(await loadRuleState(producerConnection, keyPrefix, log)).toEqual({});
    expect(lines.map((l) => l.msg)).toEqual([
      'alert rules: stored state is not JSON; starting from empty',
      'alert rules: stored state is unreadable; starting from empty',
    ]);
  });
});
