import type { Redis } from 'ioredis';
import { z } from 'zod';
import { alertInstanceSchema } from '../../alerts/notification.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../log.ts';
import { EMPTY_BURN_STATE, type BurnState } from './burn-evaluate.ts';

/**
 * The burn-rate alerts' state between ticks, in Redis (as the alert rules keep theirs): whichever
 * replica takes the next tick carries on. One JSON value written whole after each run; runs never
 * overlap (the schedule's lease sees to that).
 */
export const burnStateKey = (prefix: string) => `${prefix}:slo-burn:state`;

const burnStateSchema = z.object({
  groups: z.record(z.string(), z.object({ firingSince: z.number().finite().nullable(), sent: alertInstanceSchema.nullable() })),
  unreachableSince: z.number().finite().nullable(),
}) satisfies z.ZodType<BurnState>;

/**
 * The state the last run saved; empty when there is none or it cannot be read (logged): every burn
 * alert then sends a complete snapshot at its next evaluation, which resolves what a lost state
 * left firing. Redis errors reach the caller: evaluating without the state would resend every alert.
 */
export async function loadBurnState(redis: Redis, prefix: string, log?: Logger): Promise<BurnState> {
  const key = burnStateKey(prefix);
  const raw = await redis.get(key);
  if (raw === null) return EMPTY_BURN_STATE;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    log?.warn({ key, err: describeError(err) }, 'slo burn alerts: stored state is not JSON; starting from empty');
    return EMPTY_BURN_STATE;
  }
  const parsed = burnStateSchema.safeParse(json);
  if (!parsed.success) {
    log?.warn({ key, issues: parsed.error.issues.slice(0, 5) }, 'slo burn alerts: stored state is unreadable; starting from empty');
    return EMPTY_BURN_STATE;
  }
  return parsed.data;
}

export async function saveBurnState(redis: Redis, prefix: string, state: BurnState): Promise<void> {
  await redis.set(burnStateKey(prefix), JSON.stringify(state));
}
