import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { AuditChain } from '../audit/chain.ts';
import type { Logger } from '../log.ts';
import { inTransaction } from '../db/transaction.ts';
import { createSchedule, type Schedule } from '../schedules/schedule.ts';
import type { Outbox } from '../slack/outbox/types.ts';
import { reminderKey, reminderMessage } from './checklist.ts';
import type { ReportsConfig } from './report-config.ts';
import { checklistOf, claimReminder, dueRuns, lockRun } from './runs.ts';
import type { ReportService } from './service.ts';

// Checklist deadlines are looked at this often (one replica per tick).
const CHECKLIST_CRON = '*/5 * * * * *';

export interface ReportScheduleDeps {
  cfg: ReportsConfig;
  service: ReportService;
  /** A fail-fast client (the schedules' leases). */
  redis: Redis;
  keyPrefix: string;
  log: Logger;
  /** Whether this replica may take ticks: only one that can post. */
  eligible?: () => Promise<boolean>;
}

/**
 * One leased schedule per report: a tick is claimed by one replica (schedule.ts), and the post is
 * keyed by the tick besides (`report:<name>:<tick>`, a row per tick), so even a replica that lost
 * its lease mid-run cannot post the same tick twice.
 */
export function createReportSchedules(deps: ReportScheduleDeps): Schedule[] {
  return Object.entries(deps.cfg.reports).map(([name, report]) =>
    createSchedule({
      name: `report-${name}`,
      cron: report.schedule,
      ...(report.timezone ? { timezone: report.timezone } : {}),
      redis: deps.redis,
      keyPrefix: deps.keyPrefix,
      log: deps.log,
      ...(deps.eligible ? { eligible: deps.eligible } : {}),
      async run({ at }) {
        // The tick's second, the same on every replica: part of the key that makes the post once.
        const tickAt = Math.floor(at.getTime() / 1000) * 1000;
        const outcome = await deps.service.post(name, tickAt);
        deps.log.info({ report: name, tick: new Date(tickAt).toISOString(), outcome }, `report ${name}: ${outcome === 'posted' ? 'posted' : 'already posted for this tick'}`);
      },
    }),
  );
}

export interface ChecklistReminderDeps {
  cfg: ReportsConfig;
  pool: pg.Pool;
  outbox: Outbox;
  audit: AuditChain;
}

/**
 * Checklists whose deadline passed: each run is claimed once (a guarded UPDATE), and its open
 * items are posted again with the report's mention, in the same transaction as the claim.
 */
export async function remindOverdue(deps: ChecklistReminderDeps, now: number): Promise<number> {
  let reminded = 0;
  for (const id of await dueRuns(deps.pool, now)) {
    await inTransaction(deps.pool, async (client) => {
      const run = await lockRun(client, id);
      if (!run || !(await claimReminder(client, id, now))) return;
      const items = await checklistOf(client, id);
      const open = items.filter((i) => i.checkedAt === null);
      if (open.length === 0) return;
      const mention = deps.cfg.reports[run.name]?.checklist?.mention;
      await deps.outbox.send({ op: 'post', key: reminderKey(run), channel: run.channel, message: reminderMessage(run, items, mention), kind: 'report' }, client);
      await deps.audit.append(client, [
        { actorId: 'vigil', kind: 'report.reminder', subject: run.name, outcome: 'posted', details: { tick: new Date(run.tickAt).toISOString(), open: open.map((i) => i.label), ...(mention ? { mention } : {}) } },
      ]);
      reminded += 1;
    });
  }
  return reminded;
}

export function createChecklistSchedule(deps: ChecklistReminderDeps & Pick<ReportScheduleDeps, 'redis' | 'keyPrefix' | 'log' | 'eligible'>): Schedule {
  return createSchedule({
    name: 'reports.checklists',
    cron: CHECKLIST_CRON,
    redis: deps.redis,
    keyPrefix: deps.keyPrefix,
    log: deps.log,
    ...(deps.eligible ? { eligible: deps.eligible } : {}),
    run: async () => {
      const n = await remindOverdue(deps, Date.now());
      if (n > 0) deps.log.info({ reminded: n }, 'reports: open checklist items posted again');
    },
  });
}
