import { RANK } from './routing.ts';

const rankOf = (severity: string): number => {
  const i = RANK.indexOf(severity);
  return i === -1 ? RANK.length : i;
};

/**
 * Most severe first: the known ranking, then any other severity in byte order (as `firingGroups`
 * sorts with `COLLATE "C"`, so the list and the groups agree).
 */
export function compareSeverities(a: string, b: string): number {
  return rankOf(a) - rankOf(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * The severities `/alerts` accepts, most severe first: the known ranking, the config's channel
 * keys (but `default`, which routes the rest and is no severity) and any a group fires with now.
 * Anything else is a typo: answering "No sev1 alerts firing" would read as all clear.
 */
export function knownSeverities(configured: readonly string[], firing: readonly string[]): string[] {
  const all = [...RANK, ...configured.filter((s) => s !== 'default'), ...firing].map((s) => s.toLowerCase());
  return [...new Set(all)].sort(compareSeverities);
}
