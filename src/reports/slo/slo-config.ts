import { z } from 'zod';

/**
 * `slos:` in the YAML config: service level objectives whose error ratio Vigil reads from
 * Prometheus (PROMETHEUS_URL), shown by `/slo` and watched by burn-rate alerts (the SRE workbook's
 * multiwindow, multi-burn-rate alerts). See docs/slos.md.
 */

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d+)(s|m|h|d|w)$/;

/** A window as Prometheus writes one (`20s`, `5m`, `1h`, `30d`, `4w`): the text goes into `$window`. */
export interface PromDuration {
  text: string;
  ms: number;
}

export const promDuration = z
  .string()
  .regex(DURATION, 'must be a Prometheus duration like 20s, 5m, 1h, 30d or 4w')
  .transform((text, ctx): PromDuration => {
    const [, n = '0', unit = 's'] = DURATION.exec(text) ?? [];
    const ms = Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
    if (ms <= 0) {
      ctx.addIssue({ code: 'custom', message: 'must be longer than 0' });
      return z.NEVER;
    }
    return { text, ms };
  });

/** Where Vigil puts each window in the `errors` and `total` expressions. */
export const WINDOW_PLACEHOLDER = '$window';

const promQl = z
  .string()
  .min(1)
  .max(2000)
  .refine((q) => q.includes(WINDOW_PLACEHOLDER), `must contain ${WINDOW_PLACEHOLDER} (Vigil puts each window there, e.g. rate(x[${WINDOW_PLACEHOLDER}]))`);

const severity = z.string().regex(/^[a-z][a-z0-9_-]{0,30}$/, 'a lower-case word like critical or warning');

const burnAlert = z
  .object({
    /** Both windows must burn faster than `factor` for the alert to fire (the short one makes it reset soon). */
    long: promDuration,
    short: promDuration,
    /** Burn rate: how many times faster than "exactly the budget over the window" the errors come. */
    factor: z.number().positive().max(10_000),
    severity,
  })
  .strict()
  .refine((b) => b.short.ms < b.long.ms, { path: ['short'], message: 'must be shorter than long' });

export type BurnAlert = z.infer<typeof burnAlert>;

const minutes = (n: number): PromDuration => ({ text: `${n}m`, ms: n * 60_000 });
const hours = (n: number): PromDuration => ({ text: `${n}h`, ms: n * 3_600_000 });

/** The SRE workbook's page (2 % of a 30-day budget in an hour) and ticket (5 % in six hours). */
export const DEFAULT_BURN_ALERTS: readonly BurnAlert[] = [
  { long: hours(1), short: minutes(5), factor: 14.4, severity: 'critical' },
  { long: hours(6), short: minutes(30), factor: 6, severity: 'warning' },
];

const slo = z
  .object({
    /** Percent of requests that must succeed over `window`, e.g. 99.5. */
    objective: z
      .number()
      .gt(0, 'must be a percentage above 0')
      .lt(100, 'must be below 100: a 100 % objective leaves no error budget to measure'),
    window: promDuration,
    /** PromQL giving one number: the rate of failed requests over `$window`. */
    errors: promQl,
    /** PromQL giving one number: the rate of all requests over `$window`. */
    total: promQl,
    burnAlerts: z.array(burnAlert).min(1).max(6).default(() => [...DEFAULT_BURN_ALERTS]),
    description: z.string().max(500).optional(),
    runbook_url: z.string().url().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.burnAlerts.forEach((b, i) => {
      const key = `${b.long.text}/${b.short.text}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['burnAlerts', i], message: `a second burn alert over ${key}: each pair of windows once` });
      seen.add(key);
    });
  });

export type SloSpec = z.infer<typeof slo> & { name: string };

/** SLO names appear in commands, alert names and Redis state: a short slug. */
const sloName = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export const slosSchema = z
  .record(z.string(), slo)
  .superRefine((all, ctx) => {
    for (const name of Object.keys(all)) {
      if (!sloName.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'an SLO name is lower case letters, digits, `-`, `_` or `.` (up to 63), like checkout-availability' });
    }
  })
  .transform((all): SloSpec[] => Object.entries(all).map(([name, s]) => ({ name, ...s })));

export type SlosConfig = z.infer<typeof slosSchema>;
