import { z } from 'zod';
import { channelId } from '../config/slack-ids.ts';
import { windowText } from './window.ts';

/** Response-time targets by severity (the seeds' on-call promises); `default` for the others. */
export const DEFAULT_TARGETS: ResponseTargets = { critical: { ackMs: 15 * 60_000 }, warning: { ackMs: 3_600_000 } };

const target = z
  .object({
    /** MTTA above this is over target. */
    ack: windowText.optional(),
    /** MTTR above this is over target. */
    resolve: windowText.optional(),
  })
  .strict()
  .transform((t) => ({ ...(t.ack !== undefined && { ackMs: t.ack }), ...(t.resolve !== undefined && { resolveMs: t.resolve }) }));

export type ResponseTargets = Record<string, { ackMs?: number; resolveMs?: number }>;

/**
 * Items people tick off after the report is posted (verify dashboards, check the backups…). An item
 * still open `deadline` after the post is posted again once, mentioning `mention`.
 */
const checklist = z
  .object({
    items: z.array(z.string().min(1).max(150)).min(1).max(20),
    deadline: windowText,
    mention: z.string().regex(/^[SUW][A-Z0-9]{2,20}$/, 'must be a Slack user group id like S0123ABCD or a user id like U0123ABCD').optional(),
  })
  .strict()
  .refine((c) => new Set(c.items).size === c.items.length, { path: ['items'], message: 'items must differ from each other' });

export type ChecklistConfig = z.output<typeof checklist>;

/**
 * The shape of a node-cron expression: 5 fields, or 6 with seconds first. node-cron itself checks
 * the values when the bot starts the schedule; it is not loaded here, so a one-shot CLI call that
 * reads the config does not load the scheduler.
 */
const CRON_SHAPE = /^[\d*/,?A-Za-z-]+(\s+[\d*/,?A-Za-z-]+){4,5}$/;
const cron = z.string().trim().regex(CRON_SHAPE, 'must be a node-cron expression, seconds first allowed, like "0 0 9 * * 1-5"');

const report = z
  .object({
    channel: channelId,
    /** node-cron, seconds first allowed (like alerts.evaluate); read in `timezone` (IANA) when given. */
    schedule: cron,
    timezone: z.string().min(1).refine(isTimeZone, 'must be an IANA time zone like Europe/Berlin or UTC').optional(),
    /** How far back it looks: `24h`, `7d`. */
    window: windowText,
    checklist: checklist.optional(),
  })
  .strict();

export type ReportConfig = z.output<typeof report>;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false; // RangeError: the one way Intl says it does not know the zone
  }
}

const reportName = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'a report name is a lower-case word like daily or weekly');

/**
 * `reports:` in manifests/vigil.yaml: named reports, plus `targets` (MTTA / MTTR per severity; by
 * default acknowledged within 15m for critical and 1h for warning, no MTTR target). See docs/reports.md.
 */
const reportsObject = z
  .object({
    targets: z.record(z.string().regex(/^[a-z][a-z0-9_-]{0,30}$/, 'a severity like critical'), target).default({}),
  })
  .catchall(report);

// Names are checked first: a report under a mistyped name is said to be one before its keys are.
export const reportsConfigSchema = z
  .preprocess((input, ctx) => {
    if (input !== null && typeof input === 'object') {
      for (const name of Object.keys(input)) {
        if (name !== 'targets' && !reportName.safeParse(name).success) ctx.addIssue({ code: 'custom', path: [name], message: 'a report name is a lower-case word like daily or weekly', input });
      }
    }
    return input;
  }, reportsObject)
  .transform(({ targets, ...reports }) => ({
    targets: mergeTargets(targets),
    reports: reports as Record<string, ReportConfig>,
  }));

export type ReportsConfig = z.output<typeof reportsConfigSchema>;

function mergeTargets(given: ResponseTargets): ResponseTargets {
  const merged: ResponseTargets = { ...DEFAULT_TARGETS };
  for (const [severity, t] of Object.entries(given)) merged[severity] = { ...merged[severity], ...t };
  return merged;
}
