/**
 * Report sections and the scheduled post on the real Postgres and Redis (the outbox enqueues only:
 * no Slack client, so what would be posted stays as rows). Alert groups are written with chosen
 * timestamps, so each figure is known exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { auditChain } from '../../src/audit/chain.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createStateStore } from '../../src/db/state.ts';
import { checklistHandler } from '../../src/reports/checklist-click.ts';
import { remindOverdue } from '../../src/reports/schedules.ts';
import { createPool } from '../../src/db/pools.ts';
import { connectProbeRedis, createQueueConnection } from '../../src/db/redis-clients.ts';
import { createLogger } from '../../src/log.ts';
import { createQueueInspector } from '../../src/probes/queue-inspector.ts';
import { queuesSection } from '../../src/reports/sections/queues.ts';
import { statementsSection } from '../../src/reports/sections/statements.ts';
import type { HealthService } from '../../src/probes/health.ts';
import { buildReport } from '../../src/reports/build.ts';
import { reportsConfigSchema } from '../../src/reports/report-config.ts';
import { actionsSection, silencesSection } from '../../src/reports/sections/activity.ts';
import { alertsSection } from '../../src/reports/sections/alerts.ts';
import { incidentsSection } from '../../src/reports/sections/incidents.ts';
import { responseTimesSection } from '../../src/reports/sections/response-times.ts';
import { createReportService } from '../../src/reports/service.ts';
import { renderChannelMessage } from '../../src/slack/channel-message.ts';
import { createOutbox, type Outbox } from '../../src/slack/outbox/outbox.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { adminQuery, createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { validateBlocks } from '../support/slack-api-server.ts';

let testDb: TestDatabase;
let pool: pg.Pool;
let connection: Redis;
let outbox: Outbox;
const prefix = uniqueName('reports_it');

const HOUR = 3_600_000;
const END = Date.parse('2026-12-01T09:00:00Z');
const WINDOW = { start: END - 24 * HOUR, end: END };
const TARGETS = reportsConfigSchema.parse({}).targets;
const healthy: HealthService = {
  check: async () => ({ status: 'ok', durationMs: 1, checkedAt: new Date(END), checks: [] }),
  recent: async () => ({ status: 'ok', durationMs: 1, checkedAt: new Date(END), checks: [] }),
};

interface GroupSpec {
  id: string;
  alertname: string;
  severity?: string;
  firedAt: number;
  ackedAfterS?: number;
  resolvedAfterS?: number;
  flaps?: number;
  notifications?: number;
  test?: boolean;
}

async function group(g: GroupSpec): Promise<void> {
  const labels = { alertname: g.alertname, severity: g.severity ?? 'critical', ...(g.test ? { vigil_test: 'true' } : {}) };
  const state = { alerts: {}, commonLabels: labels, commonAnnotations: {}, groupLabels: { alertname: g.alertname } };
  const at = (s: number | undefined) => (s === undefined ? null : new Date(g.firedAt + s * 1000));
  await pool.query(
    `INSERT INTO vigil.alert_groups (group_id, source, group_key, receiver, channel, severity, status, state, fired_at, acked_at, acked_by, resolved_at, flaps)
     VALUES ($1, 'alertmanager', $2, 'vigil', 'C0ALERTS', $3, $4, $5, $6, $7, $8, $9, $10)`,
    [g.id, `{}:{alertname="${g.alertname}"}`, labels.severity, g.resolvedAfterS === undefined ? 'firing' : 'resolved', JSON.stringify(state), new Date(g.firedAt), at(g.ackedAfterS), g.ackedAfterS === undefined ? null : 'U0ALICE', at(g.resolvedAfterS), g.flaps ?? 0],
  );
  for (let i = 0; i < (g.notifications ?? 1); i++) {
    await pool.query(`INSERT INTO vigil.alert_notifications (source, group_id, received_at, payload) VALUES ('alertmanager', $1, $2, '{}')`, [g.id, new Date(g.firedAt + i * 1000)]);
  }
}

const db = async () => pool;
const ctx = (over: Partial<Parameters<ReturnType<typeof alertsSection>['collect']>[0]> = {}) => ({
  name: 'daily',
  window: WINDOW,
  previous: null,
  targets: TARGETS,
  health: healthy.check,
  ...over,
});

beforeAll(async () => {
  testDb = await createTestDatabase('reports_it');
  pool = createPool(testDb.url, { name: 'reports-it', max: 4, onIdleError: () => undefined });
  await migrate(pool);
  connection = createQueueConnection(TEST_REDIS_URL, pino({ level: 'silent' }));
  outbox = createOutbox({ connection, prefix, db: pool, client: null, pace: { perSecond: 10, burst: 5 }, metrics: new Registry(), log: pino({ level: 'silent' }) });
  // The window: two criticals and a warning with known times, one outside it, one test alert.
  await group({ id: 'g-api', alertname: 'ApiDown', firedAt: END - 10 * HOUR, ackedAfterS: 120, resolvedAfterS: 600, notifications: 5, flaps: 2 });
  await group({ id: 'g-db', alertname: 'DbSlow', firedAt: END - 5 * HOUR, ackedAfterS: 1800, resolvedAfterS: 3600, notifications: 2 });
  await group({ id: 'g-disk', alertname: 'DiskFilling', severity: 'warning', firedAt: END - HOUR, notifications: 1 });
  await group({ id: 'g-old', alertname: 'LongAgo', firedAt: END - 30 * HOUR, ackedAfterS: 1, resolvedAfterS: 2 });
  await group({ id: 'g-test', alertname: 'VigilTestAlert', firedAt: END - HOUR, ackedAfterS: 1, resolvedAfterS: 2, test: true });
});

afterAll(async () => {
  await outbox?.close();
  await deleteKeysUnder(new Redis(TEST_REDIS_URL), prefix);
  connection?.disconnect();
  await pool?.end();
  await testDb?.drop();
});

describe('MTTA and MTTR', () => {
  it('are acknowledged − fired and resolved − fired, per severity, over the groups fired in the window, against the targets', async () => {
    const { data } = await responseTimesSection(db).collect(ctx());
    expect(data).toEqual({
      critical: expect.objectContaining({ groups: 2, acknowledged: 2, resolved: 2, mttaSeconds: 960, mttrSeconds: 2100, maxAckSeconds: 1800, ackTargetSeconds: 900, mttaOverTarget: true, mttrOverTarget: false }),
      warning: expect.objectContaining({ groups: 1, acknowledged: 0, resolved: 0, mttaSeconds: null, mttrSeconds: null, ackTargetSeconds: 3600, mttaOverTarget: false }),
    });
  });

  it('use the configured targets', async () => {
    const targets = reportsConfigSchema.parse({ targets: { critical: { ack: '30m', resolve: '30m' } } }).targets;
    const { data, sections } = await responseTimesSection(db).collect(ctx({ targets }));
    expect(data).toMatchObject({ critical: { ackTargetSeconds: 1800, resolveTargetSeconds: 1800, mttaOverTarget: false, mttrOverTarget: true } });
    expect(sections[0]?.table?.rows[0]).toEqual(['critical', '2', '16m (2 acked)', '30m', '35m (2 resolved)', '30m']);
  });
});

describe('the alerts section', () => {
  it('counts by severity, lists the noisiest groups with their own times, and the unacknowledged ones', async () => {
    const { data, sections } = await alertsSection(db).collect(ctx());
    expect(data).toMatchObject({
      groups: 3,
      flapping: 1,
      bySeverity: { critical: { fired: 2, firingNow: 0, unacknowledged: 0 }, warning: { fired: 1, firingNow: 1, unacknowledged: 1 } },
      unacknowledged: { total: 1, groups: [{ alertname: 'DiskFilling', status: 'firing' }] },
    });
    const noisiest = (data as { noisiest: Array<{ alertname: string; notifications: number; ackSeconds: number | null; resolveSeconds: number | null }> }).noisiest;
    expect(noisiest.map((g) => [g.alertname, g.notifications, g.ackSeconds, g.resolveSeconds])).toEqual([
      ['ApiDown', 5, 120, 600],
      ['DbSlow', 2, 1800, 3600],
      ['DiskFilling', 1, null, null],
    ]);
    expect(sections[0]?.table?.rows[0]).toEqual(['critical', 'ApiDown', '5', '2', '2m', '10m']);
  });

  it('summarises many groups ("and N more") and stays within Block Kit limits', async () => {
    const window = { start: END + HOUR, end: END + 3 * HOUR };
    for (let i = 0; i < 60; i++) await group({ id: `storm-${i}`, alertname: `Storm${String(i).padStart(2, '0')}_${'x'.repeat(80)}`, firedAt: END + HOUR + i * 1000, notifications: i % 4 });
    const { reply } = await buildReport({ name: 'daily', window, previous: null, targets: TARGETS, health: healthy, sections: [alertsSection(db), responseTimesSection(db)] });
    const alerts = reply.sections?.find((s) => s.heading.startsWith('Alerts'));
    expect(alerts?.heading).toBe('Alerts: 60 group(s) fired');
    expect(alerts?.table?.rows).toHaveLength(10);
    expect(alerts?.text).toContain('and 50 more groups');
    expect(reply.sections?.find((s) => s.heading.startsWith('Not acknowledged'))?.text).toContain('and 50 more groups');
    const rendered = renderChannelMessage({ reply });
    expect(validateBlocks(rendered.blocks)).toEqual([]);
    expect(JSON.stringify(rendered.blocks)).not.toContain('more blocks left out');
  });
});

describe('activity', () => {
  it('counts actions requested, run and failed, by action and by whom, and silences created', async () => {
    const at = new Date(END - 2 * HOUR);
    const request = (id: string, action: string, state: string, who: string) =>
      pool.query(
        `INSERT INTO vigil.action_requests (id, action, params, preview, risk, state, requested_by, requested_by_name, approvals_needed, expires_at, created_at, finished_at)
         VALUES ($1, $2, '{}', 'x', 'low', $3, $4, $5, 0, $6, $6, $6)`,
        [id, action, state, who, who.toLowerCase(), at],
      );
    await request('r1', 'restart-api', 'succeeded', 'U0ALICE');
    await request('r2', 'restart-api', 'failed', 'U0ALICE');
    await request('r3', 'retry-failed', 'denied', 'U0BOB');
    await request('r4', 'silence', 'succeeded', 'U0BOB');
    await pool.query(`INSERT INTO vigil.alert_silences (matchers, created_by, comment, starts_at, ends_at) VALUES ('[]', 'carol', 'deploy', $1, $2)`, [at, new Date(END)]);
    const actions = await actionsSection(db).collect(ctx());
    expect(actions.data).toMatchObject({ requested: 4, ran: 3, succeeded: 2, failed: 1, deniedOrExpired: 1, byRequester: [{ who: 'u0alice', requested: 2 }, { who: 'u0bob', requested: 2 }] });
    expect(actions.sections[0]?.table?.rows[0]).toEqual(['restart-api', '2', '2', '1', '1', '0']);
    const silences = await silencesSection(db, ['silence']).collect(ctx());
    expect(silences.data).toEqual({ created: 2, byWho: [{ who: 'carol', created: 1 }, { who: 'u0bob', created: 1 }] });
  });
});

describe('incidents', () => {
  it('lists those declared or resolved in the window and those still open, with the mean time to resolve', async () => {
    const incident = (title: string, severity: string, declaredAt: number, resolvedAfterS?: number) =>
      pool.query(
        `INSERT INTO vigil.incidents (title, severity, lead, declared_by, declared_at, status, channel_name, resolved_at)
         VALUES ($1, $2, 'U0LEAD', 'U0ALICE', $3, $4, $5, $6)`,
        [title, severity, new Date(declaredAt), resolvedAfterS === undefined ? 'open' : 'resolved', `inc-${title}`, resolvedAfterS === undefined ? null : new Date(declaredAt + resolvedAfterS * 1000)],
      );
    await incident('checkout-errors', 'sev1', END - 5 * HOUR, 1800);
    await incident('slow-search', 'sev3', END - 3 * HOUR, 3600);
    await incident('queue-stuck', 'sev2', END - 30 * HOUR);
    await incident('last-week', 'sev2', END - 200 * HOUR, 600);
    const section = await incidentsSection(db).collect(ctx());
    expect(section.data).toMatchObject({ declared: 2, resolved: 2, open: 1, meanTimeToResolveSeconds: 2700 });
    expect((section.data as { incidents: { title: string }[] }).incidents.map((i) => i.title)).toEqual(['queue-stuck', 'checkout-errors', 'slow-search']);
    expect(section.sections[0]?.text).toContain('2 declared, 2 resolved, 1 open now. Mean time from declaration to resolution: 45m.');
    expect(section.sections[0]?.table?.rows[1]).toEqual(['#1 checkout-errors', 'sev1', 'resolved', '2026-12-01 04:00', '30m', '#inc-checkout-errors']);
  });
});

describe('the scheduled post', () => {
  it('records one run and one outbox message per tick, however often the tick is run', async () => {
    const cfg = reportsConfigSchema.parse({ daily: { channel: 'C0OPS', schedule: '0 0 9 * * *', window: '24h', checklist: { items: ['Verify dashboards'], deadline: '2h' } } });
    const service = createReportService({ cfg, sections: [alertsSection(db)], health: healthy, stateDb: db, outbox, audit: auditChain(null) });
    const results = await Promise.all([service.post('daily', END), service.post('daily', END)]);
    expect(results.sort()).toEqual(['already', 'posted']);
    expect(await service.post('daily', END)).toBe('already');
    const runs = await pool.query<{ message_key: string; deadline_at: Date }>("SELECT message_key, deadline_at FROM vigil.report_runs WHERE name = 'daily'");
    expect(runs.rows).toEqual([{ message_key: `report:daily:${new Date(END).toISOString()}`, deadline_at: new Date(END + 2 * HOUR) }]);
    const rows = await pool.query<{ key: string; channel: string }>("SELECT key, channel FROM vigil.outbox_messages WHERE key LIKE 'report:%'");
    expect(rows.rows).toEqual([{ key: `report:daily:${new Date(END).toISOString()}`, channel: 'C0OPS' }]);
    const posts = await pool.query("SELECT actor_id, outcome, details->>'tick' AS tick FROM vigil.audit_events WHERE kind = 'report.post' AND subject = 'daily'");
    expect(posts.rows).toEqual([{ actor_id: 'vigil', outcome: 'posted', tick: new Date(END).toISOString() }]);
    // On demand: built, neither recorded nor posted.
    const onDemand = await service.build('daily', undefined, END + HOUR);
    expect(onDemand.title).toBe('Report daily · last 1d');
    expect((onDemand.data as { previousReport: string }).previousReport).toBe(new Date(END).toISOString());
    expect((await pool.query("SELECT 1 FROM vigil.report_runs WHERE name = 'daily'")).rows).toHaveLength(1);
    await expect(service.build('nightly', undefined, END)).rejects.toThrow('There is no report "nightly"; there are daily.');
    // The next tick compares with this one.
    expect(await service.post('daily', END + 24 * HOUR)).toBe('posted');
  });
});

describe('a checklist', () => {
  it('records each item once however often it is clicked, audits every click, and is posted again once at its deadline with the open items', async () => {
    const cfg = reportsConfigSchema.parse({ weekly: { channel: 'C0OPS', schedule: '0 0 9 * * 1', window: '7d', checklist: { items: ['Verify dashboards', 'Check backups'], deadline: '1h', mention: 'S0ONCALL' } } });
    const service = createReportService({ cfg, sections: [], health: healthy, stateDb: db, outbox, audit: auditChain(null) });
    expect(await service.post('weekly', END)).toBe('posted');
    const runId = Number((await pool.query<{ id: string }>("SELECT id FROM vigil.report_runs WHERE name = 'weekly'")).rows[0]?.id);
    const audit = auditChain(null);
    const handler = checklistHandler({ state: createStateStore(pool), audit, outbox, now: () => END + 60_000 });
    const click = (user: string) => handler.handle({ kind: 'button', handler: handler.id, value: `${runId}:0`, invoker: { surface: 'slack', userId: user, channelId: 'C0OPS' } });
    const answers = await Promise.all([click('U0ALICE'), click('U0ALICE'), click('U0BOB')]);
    expect(answers.filter((a) => a.reply?.status === 'ok')).toHaveLength(1);
    const items = await pool.query<{ checked_by: string | null; checked_at: Date | null }>('SELECT checked_by, checked_at FROM vigil.report_checklist_items WHERE run_id = $1 ORDER BY position', [runId]);
    expect(items.rows[0]?.checked_at).toEqual(new Date(END + 60_000));
    expect(items.rows[1]).toEqual({ checked_by: null, checked_at: null });
    const events = await pool.query<{ outcome: string }>("SELECT outcome FROM vigil.audit_events WHERE kind = 'report.check' AND subject = 'weekly' ORDER BY id");
    expect(events.rows.map((e) => e.outcome).sort()).toEqual(['already_checked', 'already_checked', 'checked']);
    // One update of the report's message, for the one item that changed.
    const updates = await pool.query<{ key: string }>("SELECT key FROM vigil.outbox_messages WHERE key LIKE 'report:weekly:%:check:%'");
    expect(updates.rows).toHaveLength(1);

    // Before the deadline nothing; after it one reminder, however many replicas look.
    expect(await remindOverdue({ cfg, pool, outbox, audit }, END + HOUR - 1)).toBe(0);
    const reminded = await Promise.all([remindOverdue({ cfg, pool, outbox, audit }, END + HOUR), remindOverdue({ cfg, pool, outbox, audit }, END + HOUR + 5000)]);
    expect(reminded.reduce((a, b) => a + b, 0)).toBe(1);
    const reminder = await pool.query<{ job: { message: { text: string; blocks: unknown[] } } }>("SELECT job FROM vigil.outbox_messages WHERE key LIKE 'report:weekly:%:reminder'");
    expect(reminder.rows).toHaveLength(1);
    const message = reminder.rows[0]?.job.message;
    expect(message?.text).toContain('<!subteam^S0ONCALL> 1 checklist item(s) of the weekly report are still open.');
    expect(JSON.stringify(message?.blocks)).toContain('Done: Check backups');
    expect(JSON.stringify(message?.blocks)).not.toContain('Done: Verify dashboards');
    expect(validateBlocks(message?.blocks)).toEqual([]);

    // A click after the reminder updates the report and the reminder.
    const late = await handler.handle({ kind: 'button', handler: handler.id, value: `${runId}:1`, invoker: { surface: 'slack', userId: 'U0BOB', channelId: 'C0OPS' } });
    expect(late.reply?.summary).toBe('Marked "Check backups" done.');
    const lateUpdates = await pool.query<{ key: string; target: string }>("SELECT key, target FROM vigil.outbox_messages WHERE key LIKE 'report:weekly:%:check:1' ORDER BY key");
    expect(lateUpdates.rows.map((r) => r.target.endsWith(':reminder'))).toEqual([false, true]);
  });
});

describe('queues and slow statements', () => {
  it('show the queues that grew since the previous report, and the statements new among the slowest', async () => {
    const queuePrefix = `${prefix}-inspected`;
    const probe = await connectProbeRedis(TEST_REDIS_URL, createLogger('silent'));
    const inspector = createQueueInspector({ redis: probe, prefix: queuePrefix, configured: ['emails', 'thumbnails'] });
    const emails = new Queue('emails', { connection, prefix: queuePrefix });
    const thumbnails = new Queue('thumbnails', { connection, prefix: queuePrefix });
    try {
      await emails.add('send', {});
      await thumbnails.add('make', {});
      const section = queuesSection(inspector);
      const first = await section.collect(ctx());
      expect(first.baseline).toEqual({ queues: { emails: { waiting: 1, failed: 0 }, thumbnails: { waiting: 1, failed: 0 } } });
      await emails.addBulk(Array.from({ length: 4 }, () => ({ name: 'send', data: {} })));
      const second = await section.collect(ctx({ previous: { tickAt: END - 24 * HOUR, baseline: first.baseline ?? {} } }));
      expect(second.data).toMatchObject({ queues: 2, grew: [{ name: 'emails', waiting: 5, waitingGrowth: 4, failedGrowth: 0 }], grewTotal: 1 });
      expect(second.sections[0]?.table?.rows).toEqual([['emails', '0', '0', '5', '+4']]);
    } finally {
      await emails.obliterate({ force: true });
      await thumbnails.obliterate({ force: true });
      await emails.close();
      await thumbnails.close();
      await inspector.close();
      probe.disconnect();
    }

    await adminQuery('CREATE EXTENSION IF NOT EXISTS pg_stat_statements', testDb.name);
    await pool.query('SELECT pg_stat_statements_reset()');
    await pool.query('CREATE TABLE IF NOT EXISTS public.orders (id int)');
    await pool.query('SELECT count(*) FROM public.orders WHERE id > 1');
    const statements = statementsSection(pool);
    const before = await statements.collect(ctx());
    const seen = before.baseline?.statements ?? [];
    expect(seen.length).toBeGreaterThan(0);
    await pool.query('SELECT max(id) FROM public.orders WHERE id < 99');
    const after = await statements.collect(ctx({ previous: { tickAt: END - 24 * HOUR, baseline: { statements: seen } } }));
    const fresh = (after.data as { new: Array<{ query: string }> }).new.map((s) => s.query);
    expect(fresh.some((q) => q.includes('max(id) FROM public.orders'))).toBe(true);
    expect(fresh.some((q) => q.includes('count(*) FROM public.orders'))).toBe(false);
    expect(after.sections[0]?.heading).toMatch(/^Slow statements new since the previous report: \d+$/);
  });
});
