import { formatDuration } from '../core/format.ts';

/**
 * A backup's age as people configure it: hours up to three days (`30h`, `26h 15m`, as `maxAge: 26h`
 * is written), then days as everywhere else (`4d 2h`). `1d 6h` beside a `26h` limit would need
 * arithmetic to compare.
 */
export function formatAge(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'unknown';
  if (seconds < 3600 || seconds >= 72 * 3600) return formatDuration(seconds);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return m === 0 ? `${h}h` : `${h}h ${m}m`;
}
