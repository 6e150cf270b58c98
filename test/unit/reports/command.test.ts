import { describe, expect, it } from 'vitest';
import report, { type ReportCommandDeps } from '../../../commands/report.ts';
import { bindCommands, type Invoker } from '../../../src/core/command.ts';
import { createDispatcher } from '../../../src/core/dispatch.ts';
import { richTextString } from '../../../src/core/reply.ts';

const invoker: Invoker = { surface: 'slack', userId: 'U0ALICE', channelId: 'C0OPS' };
const asked: Array<{ name: string; windowMs: number | undefined }> = [];
const reports: NonNullable<ReportCommandDeps['reports']> = {
  list: () => [{ name: 'daily', channel: 'C0OPS', schedule: '0 0 9 * * 1-5', windowMs: 86_400_000, checklistItems: 2 }],
  build: async (name, windowMs) => {
    asked.push({ name, windowMs });
    return { title: `Report ${name}`, status: 'info' };
  },
};

function dispatcher(deps: ReportCommandDeps) {
  return createDispatcher({ commands: bindCommands([report], deps) });
}
const text = (r: { summary?: unknown }) => richTextString((r.summary ?? '') as string);

describe('/report', () => {
  it('alone lists the reports; with a name builds it over its window or --window', async () => {
    const d = dispatcher({ reports, missing: undefined, now: () => 0 });
    const listing = await d.dispatch('/report', '', invoker);
    expect(listing.reply.sections?.[0]?.table?.rows).toEqual([['daily', 'C0OPS', '0 0 9 * * 1-5', '1d', '2 item(s)']]);
    await d.dispatch('/report', 'daily', invoker);
    await d.dispatch('/report', 'Daily --window 7d', invoker);
    expect(asked).toEqual([
      { name: 'daily', windowMs: undefined },
      { name: 'daily', windowMs: 604_800_000 },
    ]);
  });

  it('says what is wrong with the arguments and builds nothing', async () => {
    const d = dispatcher({ reports, missing: undefined, now: () => 0 });
    const before = asked.length;
    const badWindow = await d.dispatch('/report', 'daily --window 1y', invoker);
    expect(badWindow.run.outcome).toBe('bad_args');
    expect(text(badWindow.reply)).toContain('"1y" is not a window');
    const two = await d.dispatch('/report', 'daily weekly', invoker);
    expect(text(two.reply)).toContain('takes one report name');
    expect(asked.length).toBe(before);
  });

  it('without reports configured says how to configure them', async () => {
    const d = dispatcher({ reports: null, missing: 'no reports are configured (reports: in manifests/vigil.yaml, see docs/reports.md)', now: () => 0 });
    const res = await d.dispatch('/report', 'daily', invoker);
    expect(text(res.reply)).toContain('Reports is not available: no reports are configured (reports: in manifests/vigil.yaml, see docs/reports.md).');
  });
});
