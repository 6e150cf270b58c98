import type { CommandRun } from '../core/dispatch.ts';
import type { Queryable } from '../probes/queryable.ts';

/** Record one command run. Kept off the reply's path: the caller does not wait for it. */
export async function recordCommandRun(db: Queryable, run: CommandRun): Promise<void> {
  const i = run.invoker;
  await db.query(
    `INSERT INTO command_runs (surface, user_id, user_name, channel_id, team_id, command, args, outcome, duration_ms, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [i.surface, i.userId, i.userName ?? null, i.channelId ?? null, i.teamId ?? null, run.command, run.text.slice(0, 2000), run.outcome, run.durationMs, run.error ?? null],
  );
}
