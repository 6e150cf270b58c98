import { z } from 'zod';

/** `30s`, `5m`, `2h`: a duration in the units alert rules are written in; parsed to milliseconds. */
export const durationText = z
  .string()
  .regex(/^\d+(ms|s|m|h)$/, 'must be a duration like 30s, 5m or 1h')
  .transform((d) => {
    const [, n = '0', unit = 's'] = /^(\d+)(ms|s|m|h)$/.exec(d) ?? [];
    return Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  });
