import type { FileConfig } from '../config/file.ts';
import type { AlertInstance, Notification } from './notification.ts';

export type AlertsConfig = NonNullable<FileConfig['alerts']>;

// Most severe first: a group whose alerts disagree takes the worst severity any of them has, and
// /alerts lists groups in this order (severities not in it after these, alphabetically).
export const RANK: readonly string[] = ['critical', 'error', 'warning', 'info', 'business'];

/**
 * The group's severity: its common `severity` label, else the most severe among its alerts, else
 * `none`. Lower-cased, since `Critical` and `critical` page the same people.
 */
export function severityOf(n: Pick<Notification, 'commonLabels' | 'alerts'>): string {
  const common = n.commonLabels.severity;
  if (common) return common.toLowerCase();
  const found = [...new Set(n.alerts.map((a: AlertInstance) => a.labels.severity?.toLowerCase()).filter((s): s is string => !!s))];
  if (found.length === 0) return 'none';
  const known = found.filter((s) => RANK.includes(s)).sort((a, b) => RANK.indexOf(a) - RANK.indexOf(b));
  return known[0] ?? (found.sort()[0] as string);
}

/** Where a group's message goes: the first route whose labels all match, else its severity's channel. */
export function channelFor(cfg: AlertsConfig, commonLabels: Record<string, string>, severity: string): string {
  for (const route of cfg.routes) {
    if (Object.entries(route.match).every(([name, value]) => commonLabels[name] === value)) return route.channel;
  }
  return cfg.channels[severity] ?? cfg.channels.default;
}

/** Seconds within which a resolved group firing again is a flap, and between two thread replies. */
export function cooldownMsFor(cfg: AlertsConfig, severity: string): number {
  return (cfg.cooldownSeconds[severity] ?? cfg.cooldownSeconds.default ?? 300) * 1000;
}

/** The user group to mention when a group of this severity first fires, if any. */
export function mentionFor(cfg: AlertsConfig, severity: string): string | undefined {
  return cfg.mentions[severity];
}
