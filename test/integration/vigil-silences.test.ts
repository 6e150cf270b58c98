/**
 * Vigil's own silences (for its rule alerts) against the real Postgres: made, found while in
 * force, ended early once, and matched to a group only when every firing alert is covered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { applyNotification, type AlertGroup } from '../../src/alerts/group.ts';
import { activeVigilSilences, createVigilSilence, expireVigilSilence, vigilGroupSilence } from '../../src/alerts/vigil-silences.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pools.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { alert, CFG, snapshot, T0 } from '../unit/alerts/fixtures.ts';

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase('vigil_silences');
  pool = createPool(db.url, { name: 'vigil-test-silences', max: 2, onIdleError: () => undefined });
  await migrate(pool);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

function group(instances: string[]): AlertGroup {
  const n = snapshot(instances.map((i) => alert(i)), { source: 'vigil' });
  const applied = applyNotification(null, n, { groupId: 'g1', notificationId: 1, now: T0, cfg: CFG });
  if ('superseded' in applied) throw new Error('superseded');
  return applied.next;
}

describe("Vigil's own silences", () => {
  it('cover a group only while in force and only when every firing alert matches; Unsilence ends one once', async () => {
    const now = Date.now();
    const one = await createVigilSilence(pool, { matchers: [['alertname', 'HighErrorRate'], ['instance', 'api-1']], createdBy: 'U0BOB', comment: 'disk swap', endsAt: now + 3_600_000 });
    const g = group(['api-1', 'api-2']);
    expect(vigilGroupSilence(g, await activeVigilSilences(pool, now))).toBeNull();

    const all = await createVigilSilence(pool, { matchers: [['alertname', 'HighErrorRate']], createdBy: 'U0CAROL', comment: 'maintenance', endsAt: now + 1_800_000 });
    const shown = vigilGroupSilence(g, await activeVigilSilences(pool, now));
    expect(shown).toEqual({ source: 'vigil', ids: [one, all].sort(), createdBy: 'U0BOB', endsAt: now + 1_800_000, comment: 'disk swap', matchers: 'alertname="HighErrorRate", instance="api-1"' });
    // After its end it covers nothing.
    expect(vigilGroupSilence(g, await activeVigilSilences(pool, now + 1_800_001))).toBeNull();

    expect(await expireVigilSilence(pool, all, now + 1000)).toBe('expired');
    expect(await expireVigilSilence(pool, all, now + 2000)).toBe('already');
    expect(await expireVigilSilence(pool, '00000000-0000-0000-0000-000000000000', now)).toBe('unknown');
    expect(vigilGroupSilence(g, await activeVigilSilences(pool, now + 3000))).toBeNull();
    expect((await activeVigilSilences(pool, now + 3000)).map((s) => s.id)).toEqual([one]);
  });
});
