import { z } from 'zod';
import { STATE_SCHEMA } from '../db/migrate.ts';
import type { Queryable } from '../db/queryable.ts';
import { formatMatchers } from '../core/label-matchers.ts';
import type { OwnSilences } from '../actions/runners/builtins.ts';
import { DEADMAN_ALERT } from './deadman.ts';
import type { AlertGroup, GroupSilence } from './group.ts';
import type { AlertsConfig } from './routing.ts';
import { TEST_ALERTNAME } from './test-alert.ts';

const TABLE = `${STATE_SCHEMA}.alert_silences`;

/** A silence of Vigil's own rule alerts, kept in Vigil's state (Alertmanager never sees those alerts). */
export interface VigilSilence {
  id: string;
  matchers: Array<[string, string]>;
  createdBy: string;
  comment: string;
  endsAt: number;
}

const rowSchema = z.object({
  id: z.string(),
  matchers: z.array(z.tuple([z.string(), z.string()])),
  created_by: z.string(),
  comment: z.string(),
  ends_at: z.date(),
});

export async function createVigilSilence(db: Queryable, s: Omit<VigilSilence, 'id'>): Promise<string> {
  const { rows } = await db.query(`INSERT INTO ${TABLE} (matchers, created_by, comment, ends_at) VALUES ($1::jsonb, $2, $3, $4) RETURNING id::text AS id`, [
    JSON.stringify(s.matchers),
    s.createdBy,
    s.comment,
    new Date(s.endsAt),
  ]);
  return z.object({ id: z.string() }).parse(rows[0]).id;
}

/** End a silence now: `expired`, `already` (ended before), or `unknown` (not one of Vigil's). */
export async function expireVigilSilence(db: Queryable, id: string, now: number): Promise<'expired' | 'already' | 'unknown'> {
  const { rows } = await db.query(
    `UPDATE ${TABLE} SET expired_at = CASE WHEN expired_at IS NULL AND ends_at > $2 THEN $2 ELSE expired_at END
     WHERE id::text = $1 RETURNING (expired_at = $2) AS now_expired`,
    [id, new Date(now)],
  );
  const row = rows[0] as { now_expired: boolean | null } | undefined;
  if (!row) return 'unknown';
  return row.now_expired ? 'expired' : 'already';
}

export async function activeVigilSilences(db: Queryable, now: number): Promise<VigilSilence[]> {
  const { rows } = await db.query(`SELECT id::text AS id, matchers, created_by, comment, ends_at FROM ${TABLE} WHERE expired_at IS NULL AND ends_at > $1 ORDER BY starts_at LIMIT 1000`, [
    new Date(now),
  ]);
  return rows.map((r) => {
    const p = rowSchema.parse(r);
    return { id: p.id, matchers: p.matchers, createdBy: p.created_by, comment: p.comment, endsAt: p.ends_at.getTime() };
  });
}

const covers = (s: VigilSilence, labels: Record<string, string>) => s.matchers.every(([name, value]) => labels[name] === value);

/**
 * The Vigil silence a rule group's message shows: as with Alertmanager, only when every firing
 * alert is covered, until the first of them would be uncovered.
 */
export function vigilGroupSilence(g: Pick<AlertGroup, 'view'>, silences: readonly VigilSilence[]): GroupSilence | null {
  const firing = Object.values(g.view.alerts).filter((a) => a.status === 'firing');
  if (firing.length === 0) return null;
  const ids = new Set<string>();
  let endsAt = Infinity;
  let first: VigilSilence | undefined;
  for (const a of firing) {
    const covering = silences.filter((s) => covers(s, a.labels));
    if (covering.length === 0) return null;
    first ??= covering[0];
    for (const s of covering) ids.add(s.id);
    endsAt = Math.min(endsAt, Math.max(...covering.map((s) => s.endsAt)));
  }
  if (!first) return null;
  return { source: 'vigil', ids: [...ids].sort(), createdBy: first.createdBy, endsAt, comment: first.comment, matchers: formatMatchers(Object.fromEntries(first.matchers)) };
}

/**
 * The silence builtin's view of Vigil's own silences: which alert names are Vigil's (its rules,
 * the dead-man's switch, test alerts), and making and ending silences of them in `pool`.
 */
export function ownSilencesIn(pool: Queryable, alerts: AlertsConfig | undefined, now: () => number = Date.now): OwnSilences {
  const names = new Set([...(alerts?.rules ?? []).map((r) => r.name), DEADMAN_ALERT, TEST_ALERTNAME]);
  return {
    owns: (alertname) => names.has(alertname),
    create: (s) => createVigilSilence(pool, s),
    expire: (id) => expireVigilSilence(pool, id, now()),
  };
}
