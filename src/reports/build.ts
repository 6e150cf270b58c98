import { describeError } from '../core/errors.ts';
import { worstStatus, type Reply, type Section } from '../core/reply.ts';
import type { HealthService, HealthSnapshot } from '../probes/health.ts';
import type { ResponseTargets } from './report-config.ts';
import { failedSection, type Baseline, type ReportContext, type ReportSection, type SectionResult } from './section.ts';
import { windowLabel, type ReportWindow } from './window.ts';

export interface ReportInput {
  name: string;
  window: ReportWindow;
  previous: ReportContext['previous'];
  targets: ResponseTargets;
  sections: readonly ReportSection[];
  health: HealthService;
}

/** A report as built: the Reply people read (its `data` the figures for --json), and what the next one compares with. */
export interface BuiltReport {
  reply: Reply;
  baseline: Baseline;
}

const stamp = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}`;

/**
 * Ask every section provider, in order, and put their parts together. A provider that fails is
 * one section saying why: a report with a hole in it still goes out, and says where the hole is.
 */
export async function buildReport(input: ReportInput): Promise<BuiltReport> {
  let snapshot: Promise<HealthSnapshot> | null = null;
  const ctx: ReportContext = {
    name: input.name,
    window: input.window,
    previous: input.previous,
    targets: input.targets,
    health: () => (snapshot ??= input.health.check()),
  };
  const sections: Section[] = [];
  const data: Record<string, unknown> = {};
  let baseline: Baseline = {};
  for (const provider of input.sections) {
    let result: SectionResult;
    try {
      result = await provider.collect(ctx);
    } catch (err) {
      result = failedSection(provider.id, `could not be read: ${describeError(err)}`);
    }
    sections.push(...result.sections);
    data[provider.id] = result.data;
    if (result.baseline) baseline = { ...baseline, ...result.baseline };
  }
  const { start, end } = input.window;
  const length = end - start;
  const reply: Reply = {
    title: `Report ${input.name} · last ${windowLabel(length)}`,
    status: worstStatus(sections.map((s) => s.status ?? 'info')),
    summary: `From ${stamp(start)} to ${stamp(end)} UTC.`,
    sections,
    data: {
      report: input.name,
      window: { start: new Date(start).toISOString(), end: new Date(end).toISOString(), seconds: length / 1000 },
      previousReport: input.previous ? new Date(input.previous.tickAt).toISOString() : null,
      ...data,
    },
  };
  return { reply, baseline };
}
