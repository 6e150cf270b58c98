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

/** A command a person could type next, e.g. `/queue emails`; renderers offer it as a button too. */
export interface Suggestion {
  label: string;
  command: string;
}

/** A question shown before a button's click counts (Slack's confirm dialog, the shell's y/N). */
export interface Confirm {
  title: string;
  text: string;
  confirm: string;
  deny: string;
}

/**
 * A button whose click reaches the interaction handler registered under `handler`, with `value`.
 * Transport-neutral: Slack draws it as a Block Kit button, the shell as a numbered choice.
 */
export interface Button {
  handler: string;
  label: string;
  /** Data for the handler (Slack allows 2000 characters). */
  value: string;
  style?: 'primary' | 'danger';
  confirm?: Confirm;
}

/** A link to open (runbook, dashboard): Slack draws a URL button, the shell prints it. http(s) only. */
export interface Link {
  label: string;
  url: string;
}

export interface Reply {
  title: string;
  status: Status;
  summary?: string;
  sections?: Section[];
  notes?: string[];
  buttons?: Button[];
  suggestions?: Suggestion[];
  links?: Link[];
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
