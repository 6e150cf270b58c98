/**
 * Alert housekeeping on the real Postgres: when a channel's storm ends (decided from the last
 * minute's arrivals at the moment a group is about to be posted, not only by the tick), and the
 * pruning of applied notifications.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { applyNotification } from '../../src/alerts/group.ts';
import { saveGroup } from '../../src/alerts/store.ts';
import { endCalmStorms, stormFor } from '../../src/alerts/storm.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pools.ts';
import { inTransaction } from '../../src/db/transaction.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { alert, CFG, snapshot } from '../unit/alerts/fixtures.ts';

let db: TestDatabase;
let pool: pg.Pool;
const STORM = { perMinute: 3, summaryEverySeconds: 30 };

beforeAll(async () => {
  db = await createTestDatabase('alert_storms');
  pool = createPool(db.url, { name: 'alert-storms-test', max: 2, onIdleError: () => undefined });
  await migrate(pool);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

/** A group that arrived in `channel` at `at`. */
async function arrived(channel: string, id: string, at: number): Promise<void> {
  const applied = applyNotification(null, snapshot([alert(id)], { groupKey: `{}:{g="${id}"}` }), { groupId: id.padEnd(24, '0').slice(0, 24), notificationId: 1, now: at, cfg: CFG });
  if ('superseded' in applied) throw new Error('superseded');
  await saveGroup(pool, { ...applied.next, channel, arrivedAt: at });
}

const openStorm = async (channel: string, startedAt: number) =>
  Number((await pool.query<{ id: string }>('INSERT INTO vigil.alert_storms (channel, started_at) VALUES ($1, $2) RETURNING id', [channel, new Date(startedAt)])).rows[0]?.id);
const endedAt = async (id: number) => (await pool.query<{ ended_at: Date | null }>('SELECT ended_at FROM vigil.alert_storms WHERE id = $1', [id])).rows[0]?.ended_at ?? null;

describe('a storm', () => {
  it('left open though its channel calmed down is ended by the next post there, which gets a message of its own', async () => {
    const now = Date.now();
    const id = await openStorm('C0CALM', now - 65_000);
    for (const g of ['a', 'b', 'c', 'd']) await arrived('C0CALM', `calm${g}`, now - 64_000);
    const decided = await inTransaction(pool, (client) => stormFor(client, 'C0CALM', 'newgroup0000000000000000', STORM, now));
    expect(decided).toBeNull();
    expect(await endedAt(id)).toEqual(new Date(now));
  });

  it('still blowing (as many new groups in the last minute as the limit) keeps counting', async () => {
    const now = Date.now();
    const id = await openStorm('C0WINDY', now - 65_000);
    for (const g of ['a', 'b', 'c']) await arrived('C0WINDY', `windy${g}`, now - 10_000);
    expect(await inTransaction(pool, (client) => stormFor(client, 'C0WINDY', 'newgroup0000000000000001', STORM, now))).toBe(id);
    expect(await endedAt(id)).toBeNull();
    // A minute later, with nothing new, the start-up sweep ends it.
    expect(await endCalmStorms(pool, STORM, now + 61_000, 'C0WINDY')).toBe(1);
    expect(await endedAt(id)).toEqual(new Date(now + 61_000));
  });
});

describe('applied notifications', () => {
  it('are pruned once older than the retention; unapplied ones never', async () => {
    const { pruneNotifications, storeNotification } = await import('../../src/alerts/store.ts');
    const now = Date.now();
    const old = await storeNotification(pool, snapshot([alert('p-1')], { groupKey: '{}:{prune="old"}' }));
    const recent = await storeNotification(pool, snapshot([alert('p-2')], { groupKey: '{}:{prune="recent"}' }));
    const pending = await storeNotification(pool, snapshot([alert('p-3')], { groupKey: '{}:{prune="pending"}' }));
    await pool.query("UPDATE vigil.alert_notifications SET processed_at = now() - interval '15 days' WHERE id = $1", [old.id]);
    await pool.query("UPDATE vigil.alert_notifications SET processed_at = now() - interval '13 days' WHERE id = $1", [recent.id]);
    await pool.query("UPDATE vigil.alert_notifications SET received_at = now() - interval '30 days' WHERE id = $1", [pending.id]);
    expect(await pruneNotifications(pool, 14, now)).toBe(1);
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM vigil.alert_notifications WHERE id = ANY($1::bigint[]) ORDER BY id', [[old.id, recent.id, pending.id]]);
    expect(rows.map((r) => Number(r.id))).toEqual([recent.id, pending.id]);
    expect(await pruneNotifications(pool, 14, now)).toBe(0);
  });
});
