import { z } from 'zod';
import { scrubSecrets } from '../core/errors.ts';

/**
 * Redis's slow log, read for people: `SLOWLOG GET n` validated, each command's arguments masked
 * where they may be secrets and cut short, since the log keeps whatever clients sent (Redis 7
 * redacts AUTH and a few CONFIG keys itself; older servers and other commands do not).
 */

export const MASK = '***';
/** No argument is shown longer than this: values can be megabytes, keys can be anything. */
export const MAX_ARG_CHARS = 100;
/** A whole command line in a table cell. */
export const MAX_LINE_CHARS = 200;

/** `[id, unix seconds, µs, argv, client address, client name]`; Redis before 4.0 sends only the first four. */
const entrySchema = z.tuple([z.number(), z.number(), z.number(), z.array(z.union([z.string(), z.number()]))], z.unknown());
const replySchema = z.array(z.unknown());

export interface SlowlogEntry {
  id: number;
  /** When the command ran, in Redis's clock (unix seconds). */
  unixSeconds: number;
  durationMs: number;
  /** Masked, printable, each at most MAX_ARG_CHARS. */
  args: string[];
  client: string;
  clientName: string;
}

export interface Slowlog {
  entries: SlowlogEntry[];
  /** Entries whose shape was not SLOWLOG's (a Redis-compatible server that differs): skipped. */
  unreadable: number;
  /** Why Redis would not show it (an ACL without SLOWLOG, a renamed command); the rest of /redis still answers. */
  refused?: string;
}

/** The one command read here; an ioredis client satisfies it. */
export interface SlowlogSource {
  slowlog(subcommand: 'GET', count: number): Promise<unknown>;
}

/** Redis's answers that mean "not for you" rather than "not there": the overview goes on without the log. */
const REFUSED = /^(NOPERM|ERR unknown command)/;

/** The newest `count` entries, newest first (Redis's order). */
export async function readSlowlog(redis: SlowlogSource, count: number): Promise<Slowlog> {
  try {
    return parseSlowlog(await redis.slowlog('GET', count));
  } catch (err) {
    if (err instanceof Error && REFUSED.test(err.message)) return { entries: [], unreadable: 0, refused: scrubSecrets(err.message) };
    throw err;
  }
}

/** Parse a `SLOWLOG GET` reply. An entry of another shape is counted, not guessed at. */
export function parseSlowlog(reply: unknown): Slowlog {
  const list = replySchema.safeParse(reply);
  if (!list.success) return { entries: [], unreadable: 1 };
  const entries: SlowlogEntry[] = [];
  let unreadable = 0;
  for (const raw of list.data) {
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success) {
      unreadable += 1;
      continue;
    }
    const [id, unixSeconds, micros, argv, client, name] = parsed.data;
    entries.push({
      id,
      unixSeconds,
      durationMs: Math.round(micros / 100) / 10,
      args: maskArgs(argv.map(String)).map(shownArg),
      client: typeof client === 'string' ? client : '',
      clientName: typeof name === 'string' ? name : '',
    });
  }
  return { entries, unreadable };
}

/** CONFIG SET keys whose values are credentials: requirepass, masterauth, tls-key-file-pass, … */
const SECRET_KEY = /pass|auth|secret|token/i;
/** ACL SETUSER rules that carry a password or its hash: `>pw`, `<pw`, `#hash`, `!hash`. */
const ACL_SECRET_RULE = /^[<>#!]/;

/**
 * The arguments with anything that may be a secret replaced by `***`: AUTH's password, HELLO's
 * and MIGRATE's AUTH/AUTH2 passwords, ACL SETUSER password rules, and every argument after a
 * CONFIG SET (or SENTINEL SET / SENTINEL CONFIG SET) key that names a password or token. URLs
 * with a password and Slack tokens inside any argument are masked too.
 */
export function maskArgs(argv: readonly string[]): string[] {
  const out = argv.map(scrubSecrets);
  const upper = argv.map((a) => a.toUpperCase());
  const maskAt = (i: number) => {
    if (i > 0 && i < out.length) out[i] = MASK;
  };
  const maskFrom = (i: number) => {
    for (let j = Math.max(1, i); j < out.length; j++) out[j] = MASK;
  };
  const [name = '', sub = ''] = upper;
  if (name === 'AUTH') {
    // AUTH password | AUTH username password: the user name alone is no secret.
    maskFrom(argv.length >= 3 ? 2 : 1);
  } else if (name === 'HELLO') {
    const at = upper.indexOf('AUTH', 2);
    if (at > 0) maskAt(at + 2);
  } else if (name === 'MIGRATE') {
    const keys = upper.indexOf('KEYS', 6);
    const end = keys > 0 ? keys : upper.length;
    for (let i = 6; i < end; i++) {
      if (upper[i] === 'AUTH') maskAt(i + 1);
      if (upper[i] === 'AUTH2') maskAt(i + 2);
    }
  } else if (name === 'ACL' && sub === 'SETUSER') {
    for (let i = 3; i < out.length; i++) if (ACL_SECRET_RULE.test(argv[i] ?? '')) out[i] = `${(argv[i] ?? '').charAt(0)}${MASK}`;
  } else {
    const pairsFrom = name === 'CONFIG' && sub === 'SET' ? 2 : name === 'SENTINEL' && sub === 'SET' ? 3 : name === 'SENTINEL' && sub === 'CONFIG' ? 3 : -1;
    if (pairsFrom > 0) {
      for (let i = pairsFrom; i < argv.length; i += 2) {
        if (SECRET_KEY.test(argv[i] ?? '')) {
          maskFrom(i + 1);
          break;
        }
      }
    }
  }
  return out;
}

/** An argument as text a terminal and Slack show safely: control bytes escaped, at most MAX_ARG_CHARS. */
export function shownArg(arg: string): string {
  return truncate(arg.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`), MAX_ARG_CHARS);
}

/** `SET "a key" value`: arguments joined, quoted when empty or spaced, cut at MAX_LINE_CHARS. */
export function commandLine(args: readonly string[]): string {
  return truncate(args.map((a) => (a === '' || /\s/.test(a) ? `"${a}"` : a)).join(' '), MAX_LINE_CHARS);
}

/** At most `max` characters (code points, so an emoji is never split), the last one `…` when cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
