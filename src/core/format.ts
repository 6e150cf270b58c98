/**
 * Number formatting shared by commands and probes, so an age or a size reads the same in /health,
 * /queue and a threshold's reason.
 */

/** `93784` → `1d 2h 3m`: how on-call people read uptimes and ages. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'unknown';
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : ''].filter(Boolean).join(' ') || '0m';
}

/** Bytes as MiB with one decimal: Redis memory is read in MiB, not in bytes. */
export function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * A ratio as a percentage with at most one decimal, rounded down: 0.9499 must not read as the
 * 95 % it has not reached yet.
 */
export function formatPercent(ratio: number): string {
  const tenths = Math.floor(ratio * 1000 + 1e-9);
  return `${tenths % 10 === 0 ? tenths / 10 : (tenths / 10).toFixed(1)}%`;
}

/** Bytes in the largest unit that keeps the number ≥ 1 (B, KiB, MiB, GiB): key sizes span all four. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return 'unknown';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
