/**
 * The transport-neutral answer every command returns. Renderers (Block Kit, text, JSON) turn it
 * into something a person reads; commands never know which one will.
 */
export type Status = 'ok' | 'warn' | 'fail' | 'info';

export interface Field {
  label: string;
  value: string;
}

export interface Table {
  columns: string[];
  rows: string[][];
  /** Per-row status, shown by renderers as a leading marker. */
  rowStatus?: Status[];
}

export interface Section {
  heading: string;
  status?: Status;
  /** Short text under the heading (plain text; renderers escape it). */
  text?: string;
  fields?: Field[];
  table?: Table;
}

export interface SuggestedAction {
  label: string;
  /** The command a person would type to do it, e.g. `/queue emails`. */
  command: string;
}

export interface Reply {
  title: string;
  status: Status;
  summary?: string;
  sections?: Section[];
  notes?: string[];
  actions?: SuggestedAction[];
  /** Machine-readable payload for `--json`; defaults to the reply itself. */
  data?: unknown;
  /** Post in the channel instead of only to the requester (Slack `--public`). */
  visibility?: 'ephemeral' | 'in_channel';
}

/** Worst status wins: one failing dependency makes the whole answer fail. */
export function worstStatus(statuses: Status[]): Status {
  const rank: Record<Status, number> = { info: 0, ok: 1, warn: 2, fail: 3 };
  return statuses.reduce<Status>((worst, s) => (rank[s] > rank[worst] ? s : worst), 'ok');
}
