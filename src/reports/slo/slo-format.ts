import type { Status } from '../../core/reply.ts';
import type { SloStatus, SloStatusWord } from './slo-status.ts';

/** How /slo and the reports show SLO figures, so both read the same. */

export const SLO_STATUS: Record<SloStatusWord, Status> = { ok: 'ok', burning: 'warn', exhausted: 'fail', 'no data': 'info', unknown: 'warn' };

/** 0.99512 → "99.512 %": enough digits to tell 99.9 from 99.95. */
export function percent(fraction: number | null): string {
  if (fraction === null) return '?';
  return `${Number((fraction * 100).toFixed(3))} %`;
}

export function budgetText(left: number | null): string {
  if (left === null) return '?';
  return left <= 0 ? `exhausted (${percent(left)})` : percent(left);
}

export function rate(r: number | null): string {
  if (r === null) return '?';
  return `${r >= 100 ? Math.round(r) : Number(r.toFixed(2))}×`;
}

/** The fastest alert's long window: the burn most recently measured over enough time to mean something. */
export function burnNow(s: SloStatus): string {
  const first = s.burnRates[0];
  return first ? `${rate(first.longRate)} (${first.long})` : '?';
}
