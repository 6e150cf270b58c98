/**
 * `/alerts` through a real CLI container (config, state database, the alerts feature, the
 * dispatcher) over a database of its own: the order of the list, unknown severities, and
 * `/alerts test` storing a test alert that the processor applies and, once due, resolves.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { stringify as toYaml } from 'yaml';
import { applyNotification } from '../../../src/alerts/group.ts';
import { createAlertMetrics } from '../../../src/alerts/metrics.ts';
import { createAlertProcessor } from '../../../src/alerts/processor.ts';
import { loadGroup, saveGroup, TABLES } from '../../../src/alerts/store.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { createContainer, type Container } from '../../../src/container.ts';
import type { Invoker } from '../../../src/core/command.ts';
import { richTextString, type Reply } from '../../../src/core/reply.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { createPool } from '../../../src/db/pools.ts';
import { alertsFeature } from '../../../src/features/alerts.ts';
import { createLogger } from '../../../src/log.ts';
import { alert, alertsConfig, snapshot } from '../../unit/alerts/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';
import { waitFor } from '../../support/wait.ts';

const ALERTS = { channels: { default: 'C0DEFAULT', critical: 'C0CRIT', warning: 'C0WARN', page: 'C0PAGE' }, cooldownSeconds: { default: 1 } };
const RESOLVE_AFTER_MS = 2000;
const cli: Invoker = { surface: 'cli', userId: 'U_TEST', userName: 'tester' };

let db: TestDatabase;
let pool: pg.Pool;
let dir: string;
const containers: Container[] = [];
const stops: Array<() => Promise<void>> = [];

/** A CLI container as `vigil alerts …` builds it, with only the alerts feature. */
async function cliContainer(env: Record<string, string>, yaml: Record<string, unknown>): Promise<Container> {
  const path = join(dir, `vigil-${containers.length}.yaml`);
  await writeFile(path, toYaml(yaml));
  const config = loadConfig({ ...env, VIGIL_CONFIG: path, PATH: process.env.PATH }, dir);
  const container = await createContainer(config, {
    log: createLogger('silent'),
    announce: () => undefined,
    embedded: false,
    role: 'cli',
    // Polling so rarely that only the nudge after storing gets a notification applied in time.
    features: [(infra) => alertsFeature(infra, { testResolveAfterMs: RESOLVE_AFTER_MS, processorPollMs: 600_000 })],
  });
  containers.push(container);
  return container;
}

let vigil: Container;
async function run(text: string, invoker: Invoker = cli, on: Container = vigil) {
  return on.commands.dispatch('/alerts', text, invoker);
}
const summary = (r: Reply) => richTextString(r.summary ?? '');

/** A firing group of this severity that fired at `firedAt`, stored as the processor stores it. */
let nextId = 1;
async function firing(severity: string, name: string, firedAt: number): Promise<void> {
  const id = nextId++;
  const n = snapshot([alert(`${name}-${id}`, 'firing', { labels: { alertname: name, severity }, startsAt: new Date(firedAt).toISOString() })], {
    groupKey: `{}:{alertname="${name}",n="${id}"}`,
    groupLabels: { alertname: name },
    commonLabels: { alertname: name, severity },
  });
  const applied = applyNotification(null, n, { groupId: `seed-${id}`, notificationId: id, now: firedAt, cfg: alertsConfig(ALERTS) });
  if ('superseded' in applied) throw new Error('superseded');
  await saveGroup(pool, applied.next);
}

async function groupsNamed(name: string) {
  const { rows } = await pool.query<{ group_id: string }>(`SELECT group_id FROM ${TABLES.groups} WHERE state->'commonLabels'->>'alertname' = $1`, [name]);
  const groups = await Promise.all(rows.map((r) => loadGroup(pool, r.group_id)));
  return groups.flatMap((g) => (g ? [g] : []));
}
async function loadGroupOf(name: string) {
  const [g] = await groupsNamed(name);
  if (!g) throw new Error(`no group ${name}`);
  return g;
}

beforeAll(async () => {
  db = await createTestDatabase('alerts_cmd');
  pool = createPool(db.url, { name: 'alerts-cmd-test', max: 2, onIdleError: () => undefined });
  await migrate(pool);
  dir = await mkdtemp(join(tmpdir(), 'vigil-alerts-cmd-'));
  vigil = await cliContainer({ DATABASE_URL: db.url }, { alerts: ALERTS });
});

afterAll(async () => {
  for (const stop of stops) await stop();
  for (const c of containers) await c.close();
  await pool.end();
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('/alerts lists the most severe first, then the oldest', () => {
  it('ranks critical, error, warning, info, business, then other severities alphabetically, and the 200 it shows are the most severe', async () => {
    const t = Date.now() - 3_600_000;
    // 200 old info groups would fill the list on their own if it were cut by age.
    for (let i = 0; i < 200; i++) await firing('info', 'Chatty', t + i);
    await firing('zeta', 'Zeta', t - 5000);
    await firing('alpha', 'Alpha', t - 4000);
    await firing('warning', 'WarnNew', t + 3000);
    await firing('warning', 'WarnOld', t + 1000);
    await firing('business', 'Biz', t - 9000);
    await firing('critical', 'CritNewest', t + 600_000);

    const { reply, run: record } = await run('');
    expect(record.outcome).toBe('ok');
    expect(reply.title).toBe('Alerts firing (200)');
    const rows = reply.data as Array<{ severity: string; title: string }>;
    expect(rows.slice(0, 4).map((r) => r.title)).toEqual(['CritNewest', 'WarnOld', 'WarnNew', 'Chatty']);
    expect(rows.map((r) => r.severity)).toEqual(['critical', 'warning', 'warning', ...Array<string>(197).fill('info')]);

    // Business, alpha and zeta only fit the list of their own severity.
    const { reply: unknown } = await run('zeta');
    expect((unknown.data as Array<{ title: string }>).map((r) => r.title)).toEqual(['Zeta']);
    await saveGroup(pool, { ...(await loadGroupOf('CritNewest')), status: 'resolved', resolvedAt: Date.now() });
    for (const g of await groupsNamed('Chatty')) await saveGroup(pool, { ...g, status: 'resolved', resolvedAt: Date.now() });
    const { reply: rest } = await run('');
    expect((rest.data as Array<{ title: string }>).map((r) => r.title)).toEqual(['WarnOld', 'WarnNew', 'Biz', 'Alpha', 'Zeta']);
  });
});

// The groups the test above left firing (warning, business, alpha, zeta) count as known severities.
describe('/alerts <severity>', () => {
  it('answers a severity Vigil does not know with a usage error naming those it knows', async () => {
    for (const text of ['sev1', 'test sev1']) {
      const { reply, run: record } = await run(text);
      expect(record.outcome).toBe('bad_args');
      // The ranking, then the configured `page` and the firing alpha and zeta, alphabetically; never `default`.
      expect(summary(reply)).toBe('Bad arguments: Vigil knows no severity "sev1"; it knows critical, error, warning, info, business, alpha, page, zeta');
      expect(JSON.stringify(reply.sections)).toContain('/alerts [severity] | test <severity>');
    }
  });

  it('says nothing fires for a known severity: ranked, configured, or firing now', async () => {
    expect(summary((await run('error')).reply)).toBe('No error alerts firing.');
    expect(summary((await run('Page')).reply)).toBe('No page alerts firing.');
    expect((await run('alpha')).reply.title).toBe('Alerts firing (1)');
    expect((await run('default')).run.outcome).toBe('bad_args');
  });

  it('refuses arguments it does not take', async () => {
    for (const [text, problem] of [
      ['warning critical', 'arguments: takes at most one severity, or test <severity>'],
      ['test', 'arguments: test needs a severity, e.g. test warning'],
      ['test warning critical', 'arguments: test takes one severity'],
      ['test "warn ing"', 'arguments: a severity is a word like critical or warning'],
      ['--since 1h', "Unknown option '--since'"],
    ]) {
      const { reply, run: record } = await run(text as string);
      expect(record.outcome, text).toBe('bad_args');
      expect(summary(reply), text).toBe(`Bad arguments: ${problem}`);
    }
  });
});

describe('/alerts test <severity>', () => {
  it('stores a marked test alert and its resolve; the processor applies it at once in the severity channel and resolves it once due', async () => {
    const worker = vigil.features.find((f) => f.name === 'alerts')?.workers?.[0];
    if (!worker) throw new Error('no alert processor');
    await worker.start();
    stops.push(() => worker.stop());
    const before = Date.now();
    const { reply, run: record } = await run('test warning');
    expect(record.outcome).toBe('ok');
    expect(reply.visibility).toBe('private');
    expect(reply.summary).toEqual([
      'Test warning alert stored for ',
      { channel: 'C0WARN' },
      ': the running Vigil bot posts it within a few seconds. It resolves by itself in 2 seconds.',
    ]);
    const { group } = reply.data as { group: string };
    const { rows } = await pool.query<{ source: string; status: string; due_ms: number }>(
      `SELECT source, payload->>'status' AS status, extract(epoch FROM next_attempt_at) * 1000 AS due_ms FROM ${TABLES.notifications} WHERE group_id = $1 ORDER BY id`,
      [group],
    );
    expect(rows.map((r) => [r.source, r.status])).toEqual([
      ['vigil', 'firing'],
      ['vigil', 'resolved'],
    ]);
    expect(Number(rows[1]?.due_ms) - Number(rows[0]?.due_ms)).toBeGreaterThanOrEqual(RESOLVE_AFTER_MS - 5);

    // The feature's processor (started here, as the bot does; without Slack) applies the firing one at once.
    await waitFor(async () => (await loadGroup(pool, group)) !== null, { timeoutMs: 3000, what: 'the test alert applied' });
    const fired = await loadGroup(pool, group);
    expect(fired).toMatchObject({ status: 'firing', severity: 'warning', channel: 'C0WARN', source: 'vigil' });
    expect(fired?.view.commonLabels).toEqual({ alertname: 'VigilTestAlert', severity: 'warning', vigil_test: 'true' });
    expect(fired?.view.commonAnnotations.summary).toBe('Test alert from tester: checks that warning alerts reach this channel. It resolves by itself in 2 seconds.');
    // The resolve only once due (a processor of its own: the feature's polls too rarely to see it come due).
    const processor = createAlertProcessor({ pool, outbox: null, cfg: alertsConfig(ALERTS), log: pino({ level: 'silent' }), metrics: createAlertMetrics(new Registry(), []) });
    if (Date.now() - before < RESOLVE_AFTER_MS - 300) {
      await processor.drain();
      expect((await loadGroup(pool, group))?.status).toBe('firing');
    }
    const resolved = async () => (await processor.drain(), (await loadGroup(pool, group))?.status === 'resolved');
    await waitFor(resolved, { timeoutMs: RESOLVE_AFTER_MS + 5000, intervalMs: 200, what: 'the test alert resolved' });
    expect(Date.now() - before).toBeGreaterThanOrEqual(RESOLVE_AFTER_MS - 50);

    // Each request is a group of its own, so one test never resolves another.
    const again = (await run('test warning')).reply.data as { group: string };
    expect(again.group).not.toBe(group);
  });

  it("says where each severity's test goes: its channel, else the default one", async () => {
    const slack: Invoker = { surface: 'slack', userId: 'U1', userName: 'alice' };
    expect((await run('test critical', slack)).reply.summary).toEqual(['Test critical alert sent to ', { channel: 'C0CRIT' }, '. It resolves by itself in 2 seconds.']);
    // A severity without a channel of its own goes where such alerts go: the default channel.
    expect((await run('test info', slack)).reply.summary).toEqual(['Test info alert sent to ', { channel: 'C0DEFAULT' }, '. It resolves by itself in 2 seconds.']);
  });

  it("needs Vigil's state database, and an alerts: section", async () => {
    const noDatabase = await cliContainer({}, { alerts: ALERTS });
    const { reply, run: record } = await run('test warning', cli, noDatabase);
    expect(record.outcome).toBe('unavailable');
    expect(summary(reply)).toMatch(/^Vigil's state database \(alert groups\) is not available/);

    const noAlerts = await cliContainer({ DATABASE_URL: db.url }, {});
    const unconfigured = await run('test warning', cli, noAlerts);
    expect(unconfigured.run.outcome).toBe('unavailable');
    expect(summary(unconfigured.reply)).toBe('Sending a test alert is not available: Vigil has no `alerts:` section in its configuration.');
  });
});
