import type { Redis } from 'ioredis';
import { z } from 'zod';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../log.ts';
import { alertInstanceSchema } from '../notification.ts';
import type { RuleState, TargetState } from './evaluate.ts';

/**
 * Where the alert rules' state lives between ticks: in Redis, so whichever replica claims the next
 * tick carries on where the last one stopped. One JSON value, written whole after each run (runs
 * never overlap: the schedule's lease sees to that).
 */
export const ruleStateKey = (prefix: string) => `${prefix}:alert-rules:state`;

const time = z.number().finite().nullable();
const targetState = z.object({
  pendingSince: time,
  firingSince: time,
  clearSince: time,
  last: time,
  summary: z.string().nullable(),
  sent: alertInstanceSchema.nullable(),
}) satisfies z.ZodType<TargetState>;

const ruleStateSchema = z.record(z.string(), z.record(z.string(), targetState)) satisfies z.ZodType<RuleState>;

/**
 * The state the last run saved; empty when there is none. A value this version cannot read (corrupt,
 * or written by another version) is logged and treated as empty: every rule then sends a complete
 * snapshot on its next evaluation, which resolves whatever the lost state had firing. Redis errors
 * reach the caller: evaluating without the state would resend every alert.
 */
export async function loadRuleState(redis: Redis, prefix: string, log?: Logger): Promise<RuleState> {
  const key = ruleStateKey(prefix);
  const raw = await redis.get(key);
  if (raw === null) return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    log?.warn({ key, err: describeError(err) }, 'alert rules: stored state is not JSON; starting from empty');
    return {};
  }
  const parsed = ruleStateSchema.safeParse(json);
  if (!parsed.success) {
    log?.warn({ key, issues: parsed.error.issues.slice(0, 5) }, 'alert rules: stored state is unreadable; starting from empty');
    return {};
  }
  return parsed.data;
}

export async function saveRuleState(redis: Redis, prefix: string, state: RuleState): Promise<void> {
  await redis.set(ruleStateKey(prefix), JSON.stringify(state));
}

/**
 * Rules a person resolved by hand: their next evaluation starts afresh (pending, then firing after
 * `for` if the condition still holds). A set the run takes whole rather than an edit of the state,
 * so a click during a run is not overwritten by the run's save: the next run takes it.
 */
export const forgetRulesKey = (prefix: string) => `${prefix}:alert-rules:forget`;

export async function forgetRule(redis: Redis, prefix: string, ruleName: string): Promise<void> {
  await redis.sadd(forgetRulesKey(prefix), ruleName);
}

/** The rules to start afresh, removed from the set in the same step. */
export async function takeForgottenRules(redis: Redis, prefix: string): Promise<string[]> {
  const replies = await redis.multi().smembers(forgetRulesKey(prefix)).del(forgetRulesKey(prefix)).exec();
  const [err, members] = replies?.[0] ?? [null, []];
  if (err) throw err;
  return z.array(z.string()).parse(members);
}
