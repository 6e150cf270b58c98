import type { Queryable } from '../db/queryable.ts';
import { inTransaction } from '../db/transaction.ts';
import type pg from 'pg';
import type { AlertProcessor } from './processor.ts';
import { loadGroup, lockGroup, saveGroup } from './store.ts';

/**
 * Shows a group's message again when something it shows changed outside the group (its incident got
 * a channel, or it was linked to one): under the group's lock, as a new version, so the outbox
 * sends it as a new update however often this runs.
 */
export type GroupMessageRefresher = (groupIds: readonly string[]) => Promise<void>;

// Per container (tests run several bots in one process): the alerts feature provides it, the
// incidents feature, built after it, uses it.
const refreshers = new WeakMap<object, GroupMessageRefresher>();

export function provideGroupRefresher(owner: object, pool: pg.Pool, processor: AlertProcessor): void {
  refreshers.set(owner, async (groupIds) => {
    for (const groupId of groupIds) await inTransaction(pool, (client) => refreshOne(client, processor, groupId));
  });
}

export function groupRefresherOf(owner: object): GroupMessageRefresher | null {
  return refreshers.get(owner) ?? null;
}

async function refreshOne(db: Queryable, processor: AlertProcessor, groupId: string): Promise<void> {
  await lockGroup(db, groupId);
  const g = await loadGroup(db, groupId);
  if (!g || g.messageKey === null) return;
  const next = { ...g, version: g.version + 1 };
  await saveGroup(db, await processor.sendIntents(db, next, [{ kind: 'update' }], Date.now()));
}
