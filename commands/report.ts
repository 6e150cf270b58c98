import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';
import { requireDep } from '../src/core/deps.ts';
import type { Reply } from '../src/core/reply.ts';
import type { ReportService } from '../src/reports/service.ts';
import { windowLabel, windowText } from '../src/reports/window.ts';

/** What /report reads: the configured reports (null with the reason when there are none or no state database). */
export interface ReportCommandDeps {
  reports: Pick<ReportService, 'list' | 'build'> | null;
  missing: string | undefined;
  now: () => number;
}

type ReportArgs = { name?: string; window?: number };

const reportName = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/i, 'a report name is a word like daily').transform((s) => s.toLowerCase());

export default defineCommand<ReportArgs, ReportCommandDeps>({
  name: 'report',
  summary: 'An ops report now: alerts, MTTA/MTTR, actions, queues, slow statements, backups',
  usage: '[name] [--window 7d]',
  options: { window: { type: 'string' } },
  args: z
    .object({
      window: windowText.optional(),
      positionals: z.array(reportName).max(1, 'takes one report name, e.g. /report daily'),
    })
    .transform(({ window, positionals }): ReportArgs => ({ ...(positionals[0] ? { name: positionals[0] } : {}), ...(window !== undefined ? { window } : {}) })),
  async run(args, { deps }): Promise<Reply> {
    const reports = requireDep(deps.reports, 'Reports', deps.missing);
    if (args.name === undefined) return listing(reports.list());
    return reports.build(args.name, args.window, deps.now());
  },
});

function listing(list: ReturnType<ReportService['list']>): Reply {
  return {
    title: 'Reports',
    status: 'info',
    summary: `${list.length} report(s) configured. Run /report <name> for one now, --window to look further back.`,
    sections: [
      {
        heading: 'Scheduled reports',
        table: {
          columns: ['name', 'channel', 'schedule', 'window', 'checklist'],
          rows: list.map((r) => [r.name, r.channel, r.schedule, windowLabel(r.windowMs), r.checklistItems > 0 ? `${r.checklistItems} item(s)` : '–']),
        },
      },
    ],
    data: list,
  };
}
