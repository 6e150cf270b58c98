import type pg from 'pg';
import { inTransaction } from '../db/transaction.ts';
import { matcherText, type AlertmanagerReader, type AmAlert, type AmSilence } from './alertmanager-api.ts';
import type { AlertGroup, GroupSilence } from './group.ts';
import { applySilence } from './group-transitions.ts';
import type { AlertProcessor } from './processor.ts';
import { groupFromRow, loadGroup, lockGroup, saveGroup, TABLES } from './store.ts';
import { activeVigilSilences, vigilGroupSilence } from './vigil-silences.ts';

/** What Alertmanager says is silenced now: each silenced alert's active silences, by fingerprint. */
export interface SilencedNow {
  byFingerprint: Map<string, AmSilence[]>;
}

export function silencedNow(read: { alerts: AmAlert[]; silences: Map<string, AmSilence> }): SilencedNow {
  const byFingerprint = new Map<string, AmSilence[]>();
  for (const a of read.alerts) {
    const covering = (a.status.silencedBy ?? []).flatMap((id) => read.silences.get(id) ?? []);
    if (covering.length > 0) byFingerprint.set(a.fingerprint, covering);
  }
  return { byFingerprint };
}

/**
 * The silence a group's message shows: only when every firing alert of it is silenced (one
 * alert still paging means the group is not quiet). It lasts until the first of them would be
 * unsilenced; who, why and the matchers are the first silence's.
 */
export function groupSilenceFrom(g: Pick<AlertGroup, 'view'>, now: SilencedNow): GroupSilence | null {
  const firing = Object.values(g.view.alerts).filter((a) => a.status === 'firing');
  if (firing.length === 0) return null;
  const ids = new Set<string>();
  let endsAt = Infinity;
  let first: AmSilence | undefined;
  for (const a of firing) {
    const covering = now.byFingerprint.get(a.fingerprint);
    if (!covering) return null;
    first ??= covering[0];
    for (const s of covering) ids.add(s.id);
    endsAt = Math.min(endsAt, Math.max(...covering.map((s) => Date.parse(s.endsAt))));
  }
  if (!first || !Number.isFinite(endsAt)) return null;
  return { source: 'alertmanager', ids: [...ids].sort(), createdBy: first.createdBy, endsAt, comment: first.comment, matchers: first.matchers.map(matcherText).join(', ') };
}

/**
 * Housekeeping: show on each firing group's message whether a silence covers it now — for
 * Alertmanager's groups its silences (from a button, amtool or its UI alike), for Vigil's own
 * rule alerts Vigil's — and say in its thread, with the mention, when the silence ended while the
 * group still fires. With Alertmanager unreachable (or not configured) a silence shown is kept
 * until its end time, then ended all the same. Returns the groups changed.
 */
export async function syncSilences(pool: pg.Pool, processor: AlertProcessor, reader: AlertmanagerReader | null, now: number): Promise<number> {
  const { rows } = await pool.query(`SELECT * FROM ${TABLES.groups} WHERE status = 'firing' ORDER BY fired_at LIMIT 1000`);
  const groups = rows.map(groupFromRow);
  if (groups.length === 0) return 0;
  let seen: SilencedNow | null = null;
  let failure: unknown = null;
  if (reader && groups.some((g) => g.source === 'alertmanager')) {
    try {
      seen = silencedNow(await reader.silenced());
    } catch (err) {
      failure = err;
    }
  }
  const own = groups.some((g) => g.source === 'vigil') ? await activeVigilSilences(pool, now) : [];
  const desiredFor = (g: AlertGroup): GroupSilence | null => {
    if (g.source === 'vigil') return vigilGroupSilence(g, own);
    if (seen) return groupSilenceFrom(g, seen);
    return g.silence !== null && g.silence.endsAt > now ? g.silence : null;
  };
  let changed = 0;
  // Most ticks change nothing: only a group whose silence differs is locked and decided again.
  for (const candidate of groups.filter((g) => applySilence(g, desiredFor(g), now) !== null)) {
    await inTransaction(pool, async (client) => {
      await lockGroup(client, candidate.groupId);
      const group = await loadGroup(client, candidate.groupId);
      const applied = group ? applySilence(group, desiredFor(group), now) : null;
      if (!applied) return;
      await saveGroup(client, await processor.sendIntents(client, applied.next, applied.intents, now));
      changed += 1;
    });
  }
  if (failure) throw failure;
  return changed;
}
