import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** JSON lines for machines (a file, a pipe, a log collector); one readable line for a person at a terminal. */
export type LogFormat = 'json' | 'readable';

/** Decided per destination: stdout and stderr may differ (`vigil 2>log.json` keeps a readable stdout). */
export function logFormatFor(isTTY: boolean): LogFormat {
  return isTTY ? 'readable' : 'json';
}

/** Where finished lines go. The shell passes one that keeps its prompt intact (shell/terminal-output.ts). */
export type LineWriter = (fd: 1 | 2, text: string) => void;

export interface LoggerOptions {
  /** 2 (stderr, the default) for diagnostics; 1 (stdout) for the start-up lines main.ts announces. */
  fd?: 1 | 2;
  /** Whether the destination is a terminal; read from the fd when not given. */
  isTTY?: boolean;
  /** In the readable format, an info line with no fields is its message alone (start-up lines look as they always did). */
  bareInfo?: boolean;
  /** Readable lines are written through this (default: straight to the fd). */
  writer?: LineWriter;
}

/** Keys whose values never reach a log line, in either format; the first defence is never logging secrets. */
export const REDACTED_PATHS = ['token', 'botToken', 'appToken', 'signingSecret', 'password', 'connectionString', '*.token', '*.password', 'headers.authorization', 'headers["x-slack-signature"]'];

/**
 * Structured logs, on stderr by default (stdout belongs to the shell and CLI output). Redaction
 * happens inside pino before a line is serialised, so the readable format sees it too.
 */
export function createLogger(level: string, opts: LoggerOptions = {}): Logger {
  const fd = opts.fd ?? 2;
  const format = logFormatFor(opts.isTTY ?? isatty(fd));
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: undefined };
  if (format === 'json') return pino(options, pino.destination({ fd, sync: true }));
  const writer = opts.writer ?? ((to: 1 | 2, text: string) => void writeSync(to, text));
  const bareInfo = opts.bareInfo ?? false;
  const readable: DestinationStream = { write: (json: string) => writer(fd, `${readableLine(json, { bareInfo })}\n`) };
  return pino(options, readable);
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/**
 * One pino JSON line as `HH:MM:SS LEVEL message key=value …` (local time). A value with spaces,
 * quotes or `=` is quoted as JSON, objects are JSON; an `err` with a stack gets it on the lines below.
 */
export function readableLine(json: string, opts: { bareInfo?: boolean } = {}): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd(); // not ours to reformat
  }
  const { level, time, msg, ...fields } = entry;
  const message = typeof msg === 'string' ? msg : '';
  const keys = Object.keys(fields);
  if (opts.bareInfo && level === 30 && keys.length === 0) return message;
  const clock = typeof time === 'number' ? new Date(time).toTimeString().slice(0, 8) : '--:--:--';
  const name = (typeof level === 'number' && LEVEL_NAMES[level]) || `LEVEL${String(level)}`;
  const parts = [clock, name.padEnd(5), message, ...keys.map((k) => `${k}=${formatValue(fields[k])}`)];
  const stack = stackOf(fields.err);
  return parts.filter((p) => p !== '').join(' ') + (stack ? `\n${stack}` : '');
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  // A stack, when there is one, is printed below the line instead.
  if (typeof value === 'object' && value !== null) return JSON.stringify(value, (key, v: unknown) => (key === 'stack' ? undefined : v));
  return String(value);
}

function stackOf(err: unknown): string | null {
  if (typeof err !== 'object' || err === null) return null;
  const stack = (err as { stack?: unknown }).stack;
  return typeof stack === 'string' ? stack.replace(/^/gm, '    ') : null;
}
