import { z } from 'zod';

/** How /audit and `vigil audit export` filter the trail: the same words, checked the same way. */
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const MAX_SINCE_MS = 366 * UNIT_MS.d;

/** `30m`, `24h`, `7d`, `2w`: how far back to look, in milliseconds. Shared with `vigil audit export`. */
export const sinceSchema = z
  .string()
  .regex(/^\d{1,6}[mhdw]$/, 'must be a number and a unit: 30m, 24h, 7d, 2w')
  .transform((text) => ({ text, ms: Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1) as keyof typeof UNIT_MS] }))
  .refine(({ ms }) => ms > 0 && ms <= MAX_SINCE_MS, 'must be more than 0 and at most 366d');

/** `U123`, `@U123` (a mention), `@alice`, `root` from the CLI: matches an actor id or display name. */
export const userSchema = z
  .string()
  .regex(/^@?[\w.-]{1,80}$/, 'must be a mention like @alice or a user id like U123')
  .transform((text) => text.replace(/^@/, ''));

export const actionSchema = z.string().regex(/^[A-Za-z0-9][\w.:-]{0,63}$/, 'must be an event kind, an action or a command name, e.g. restart, command, action.approve');
