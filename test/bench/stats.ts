import type { Invoker } from '../../src/core/command.ts';
import type { Dispatcher } from '../../src/core/dispatch.ts';
import { renderBlocks } from '../../src/slack/blocks.ts';

/** Small helpers for printing benchmark figures. Nothing here asserts: benchmarks only report. */

/** Nearest-rank percentile of unsorted samples (ms). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(samples: readonly number[]): Summary {
  const mean = samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length);
  return { n: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), max: Math.max(...samples), mean };
}

export const ms = (value: number): string => `${value.toFixed(2)} ms`;

export function line(label: string, s: Summary): string {
  return `  ${label.padEnd(34)} n=${String(s.n).padStart(5)}  p50 ${ms(s.p50).padStart(10)}  p99 ${ms(s.p99).padStart(10)}  max ${ms(s.max).padStart(10)}`;
}

/** "within target" / "over target", for a figure and its budget. */
export function verdict(value: number, target: number, unit = 'ms'): string {
  return value <= target ? `within target (≤ ${target} ${unit})` : `OVER target (≤ ${target} ${unit})`;
}

/**
 * Time `iterations` sequential runs of one slash command through the real dispatcher, rendered to
 * Block Kit as Slack would get it, after `warmup` untimed runs. Returns the samples and the last title.
 */
export async function timeCommand(
  dispatcher: Dispatcher,
  slash: string,
  opts: { warmup: number; iterations: number },
): Promise<{ samples: number[]; title: string }> {
  const invoker: Invoker = { surface: 'cli', userId: 'bench' };
  const samples: number[] = [];
  let title = '';
  for (let i = 0; i < opts.warmup + opts.iterations; i++) {
    const start = performance.now();
    const result = await dispatcher.dispatch(slash, '', invoker);
    JSON.stringify(renderBlocks(result.reply));
    if (i >= opts.warmup) samples.push(performance.now() - start);
    title = result.reply.title;
  }
  return { samples, title };
}
