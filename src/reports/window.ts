import { z } from 'zod';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
const WINDOW = /^(\d{1,6})(s|m|h|d|w)$/;
/** A report looks back at most a year: alert notifications are pruned long before that anyway. */
export const MAX_WINDOW_MS = 366 * UNIT_MS.d;

/** `24h`, `7d`, `2w`, `90s` → milliseconds, or null when it is not such a duration. */
export function parseWindow(text: string): number | null {
  const m = WINDOW.exec(text.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms > 0 && ms <= MAX_WINDOW_MS ? ms : null;
}

/** The zod form of a window (config and `--window`): a clear message for anything else. */
export const windowText = z.string().transform((text, ctx) => {
  const ms = parseWindow(text);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a window: write a number and a unit (s, m, h, d, w) like 24h or 7d, at most 366d` });
    return z.NEVER;
  }
  return ms;
});

/** The span a report covers: `[start, end)` in ms since the epoch. */
export interface ReportWindow {
  start: number;
  end: number;
}

export function windowEndingAt(end: number, lengthMs: number): ReportWindow {
  return { start: end - lengthMs, end };
}

/** `86400000` → `24h`, `604800000` → `7d`: how the window reads in a title. */
export function windowLabel(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms % UNIT_MS[unit] === 0 && (unit !== 'w' || ms / UNIT_MS.w > 1)) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
