import type { CommandRun } from '../core/dispatch.ts';
import type { Queryable } from '../db/queryable.ts';

const COLUMNS = ['surface', 'user_id', 'user_name', 'channel_id', 'team_id', 'command', 'args', 'outcome', 'duration_ms', 'error'];

/** Insert command runs as one multi-row statement (a burst of 200 commands costs one round trip). */
export async function recordCommandRuns(db: Queryable, runs: CommandRun[]): Promise<void> {
  if (runs.length === 0) return;
  const values: unknown[] = [];
  const rows = runs.map((run) => {
    const i = run.invoker;
    const base = values.length;
    values.push(i.surface, i.userId, i.userName ?? null, i.channelId ?? null, i.teamId ?? null, run.command, run.text.slice(0, 2000), run.outcome, run.durationMs, run.error ?? null);
    return `(${COLUMNS.map((_, c) => `$${base + c + 1}`).join(', ')})`;
  });
  await db.query(`INSERT INTO vigil.command_runs (${COLUMNS.join(', ')}) VALUES ${rows.join(', ')}`, values);
}
