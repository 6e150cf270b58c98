import type pg from 'pg';
import { z } from 'zod';
import { groupIdOf, type Notification } from './notification.ts';
import { TABLES } from './store.ts';

export interface NotificationWriter {
  /** Resolves once the notification is committed in Postgres (then the sender may get its 2xx). */
  store(n: Notification): Promise<{ id: number; groupId: string }>;
}

// Postgres takes arrays of any length; this bounds one statement's size and latency.
const MAX_BATCH = 500;

/**
 * Group commit: notifications arriving while a write is in flight go into the next one, a single
 * INSERT over arrays (one statement shape whatever the batch size). Under a burst this costs one
 * round trip and one WAL flush per batch instead of per request; alone, a request is written at once.
 */
export function createNotificationWriter(pool: pg.Pool): NotificationWriter {
  let pending: Array<{ n: Notification; groupId: string; resolve: (r: { id: number; groupId: string }) => void; reject: (err: unknown) => void }> = [];
  let writing = false;

  async function flush(): Promise<void> {
    writing = true;
    try {
      while (pending.length > 0) {
        const batch = pending.slice(0, MAX_BATCH);
        pending = pending.slice(batch.length);
        try {
          // Ids come from the sequence in the order of `ord`, so sorting them restores input order.
          const { rows } = await pool.query(
            `INSERT INTO ${TABLES.notifications} (source, group_id, payload)
             SELECT source, group_id, payload FROM unnest($1::text[], $2::text[], $3::jsonb[]) WITH ORDINALITY AS t(source, group_id, payload, ord)
             ORDER BY ord RETURNING id`,
            [batch.map((b) => b.n.source), batch.map((b) => b.groupId), batch.map((b) => JSON.stringify(b.n))],
          );
          const ids = rows.map((r) => Number(z.object({ id: z.union([z.string(), z.number()]) }).parse(r).id)).sort((a, b) => a - b);
          if (ids.length !== batch.length) throw new Error(`stored ${ids.length} of ${batch.length} notifications`);
          batch.forEach((b, i) => b.resolve({ id: ids[i] as number, groupId: b.groupId }));
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      writing = false;
    }
  }

  return {
    store(n) {
      return new Promise((resolve, reject) => {
        pending.push({ n, groupId: groupIdOf(n), resolve, reject });
        if (!writing) void flush();
      });
    },
  };
}
