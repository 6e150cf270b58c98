/**
 * A firing that may be a late copy, while Alertmanager cannot be asked (real Postgres, the real
 * processor, an Alertmanager URL nothing listens on): it is held, not dropped; a newer
 * notification of the group supersedes it meanwhile; unanswered after the hold, it is shown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type pg from 'pg';
import { alertmanagerReader } from '../../src/alerts/alertmanager-api.ts';
import { createLateFiringJudge } from '../../src/alerts/late-firing.ts';
import { createAlertMetrics } from '../../src/alerts/metrics.ts';
import type { AlertInstance } from '../../src/alerts/notification.ts';
import { createAlertProcessor, type AlertProcessor } from '../../src/alerts/processor.ts';
import { storeNotification } from '../../src/alerts/store.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pools.ts';
import { freePort } from '../../src/embedded/free-port.ts';
import { alert, alertsConfig, snapshot } from '../unit/alerts/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

const HOLD_MS = 120_000;
let db: TestDatabase;
let pool: pg.Pool;
let processor: AlertProcessor;
let skew = 0;
let metrics: Registry;

const iso = (t: number) => new Date(t).toISOString();
const held = (instance: string, status: 'firing' | 'resolved', startsAt: number, endsAt?: number): AlertInstance =>
  alert(instance, status, { labels: { alertname: 'HeldCopy', severity: 'critical', instance }, startsAt: iso(startsAt), endsAt: endsAt === undefined ? null : iso(endsAt) });
const group = (alerts: AlertInstance[]) =>
  snapshot(alerts, { groupKey: '{}:{alertname="HeldCopy"}', groupLabels: { alertname: 'HeldCopy' }, commonLabels: { alertname: 'HeldCopy', severity: 'critical' } });

async function row(id: number): Promise<{ processed: boolean; note: string | null }> {
  const { rows } = await pool.query<{ processed: boolean; note: string | null }>('SELECT processed_at IS NOT NULL AS processed, last_error AS note FROM vigil.alert_notifications WHERE id = $1', [id]);
  return rows[0] ?? { processed: false, note: null };
}
const status = async (groupId: string) => (await pool.query<{ status: string }>('SELECT status FROM vigil.alert_groups WHERE group_id = $1', [groupId])).rows[0]?.status;
/** Five seconds pass for the held row: it is due again. */
const dueAgain = (id: number) => pool.query('UPDATE vigil.alert_notifications SET next_attempt_at = now() WHERE id = $1', [id]);
const outcomes = async () => (await metrics.getSingleMetric('vigil_alert_notifications_applied_total')?.get())?.values.map((v) => `${v.labels.outcome}=${v.value}`).sort();

beforeAll(async () => {
  db = await createTestDatabase('late_firing_hold');
  pool = createPool(db.url, { name: 'late-firing-test', max: 4, onIdleError: () => undefined });
  await migrate(pool);
  const deadAlertmanager = alertmanagerReader(`http://127.0.0.1:${await freePort()}`);
  metrics = new Registry();
  processor = createAlertProcessor({
    pool,
    outbox: null,
    cfg: alertsConfig({ cooldownSeconds: { default: 60 } }),
    log: pino({ level: 'silent' }),
    metrics: createAlertMetrics(metrics, []),
    lateFiring: createLateFiringJudge({ alertmanager: deadAlertmanager, holdMs: HOLD_MS, now: () => Date.now() + skew }),
  });
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

describe('Alertmanager cannot say whether a firing is a late copy', () => {
  it('holds it; a newer notification supersedes it; past the hold it is shown', async () => {
    const t = Date.now() - 600_000;
    const first = await storeNotification(pool, group([held('h-1', 'firing', t)]));
    await storeNotification(pool, group([held('h-1', 'resolved', t, t + 60_000)]));
    await processor.drain();
    expect(await status(first.groupId)).toBe('resolved');

    // The firing again, started before the resolve ended: held, not applied and not dropped.
    const late = await storeNotification(pool, group([held('h-1', 'firing', t)]));
    await processor.drain();
    expect(await row(late.id)).toEqual({ processed: false, note: expect.stringMatching(/^held: it may be a late copy and Alertmanager cannot say/) });
    expect(await status(first.groupId)).toBe('resolved');

    // Alertmanager's next word on the group arrives meanwhile: it wins, the held copy is superseded.
    await storeNotification(pool, group([held('h-1', 'resolved', t, t + 60_000)]));
    await processor.drain();
    await dueAgain(late.id);
    await processor.drain();
    expect((await row(late.id)).processed).toBe(true);
    expect(await status(first.groupId)).toBe('resolved');

    // Another doubtful firing, and nothing more: once the hold has passed it is shown (a missed page costs more).
    const again = await storeNotification(pool, group([held('h-1', 'firing', t)]));
    await processor.drain();
    expect((await row(again.id)).processed).toBe(false);
    skew = HOLD_MS;
    await dueAgain(again.id);
    await processor.drain();
    expect(await row(again.id)).toEqual({ processed: true, note: null });
    expect(await status(first.groupId)).toBe('firing');
    expect(await outcomes()).toEqual(['changed=3', 'held=2', 'superseded=1', 'unchanged=1']);
  });
});
