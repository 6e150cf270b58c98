/**
 * The transport-neutral answer every command returns. Renderers (Block Kit, text, JSON) turn it
 * into something a person reads; commands never know which one will.
 */
export type Status = 'ok' | 'warn' | 'fail' | 'info';

/**
 * Something a transport draws as a link or a mention, named by id: a channel, a person, a user
 * group. Slack shows `#ops` and notifies `@alice`; the terminal prints the id.
 */
export type Ref = { channel: string } | { user: string } | { userGroup: string };

/** Text with references in it. Plain parts are shown as written: every renderer escapes them. */
export type RichText = string | readonly (string | Ref)[];

/** Who may see an answer: the person who asked, or everyone in the channel (Slack `--public`). */
export type Visibility = 'private' | 'channel';

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
  summary?: RichText;
  sections?: Section[];
  notes?: RichText[];
  buttons?: Button[];
  suggestions?: Suggestion[];
  links?: Link[];
  /** Machine-readable payload for `--json`; defaults to the reply itself. */
  data?: unknown;
  /** Shown in the channel instead of only to the requester (Slack `--public`). */
  visibility?: Visibility;
}

/** Worst status wins: one failing dependency makes the whole answer fail. */
export function worstStatus(statuses: Status[]): Status {
  const rank: Record<Status, number> = { info: 0, ok: 1, warn: 2, fail: 3 };
  return statuses.reduce<Status>((worst, s) => (rank[s] > rank[worst] ? s : worst), 'ok');
}

/** RichText as one plain string, references drawn by `ref` (the terminal: `#C123`, `@U123`). */
export function richTextString(text: RichText, ref: (r: Ref) => string = plainRef): string {
  return typeof text === 'string' ? text : text.map((part) => (typeof part === 'string' ? part : ref(part))).join('');
}

function plainRef(r: Ref): string {
  return 'channel' in r ? `#${r.channel}` : 'user' in r ? `@${r.user}` : `@${r.userGroup}`;
}
