import type { RichText } from './reply.ts';

/**
 * Typed errors with a stable code and a message that is safe to show a user. Handled at exactly
 * three boundaries (listener, HTTP server, worker); anything else is a bug and gets a generic reply.
 */
export type ErrorCode =
  | 'bad_args'
  | 'dependency_unavailable'
  | 'timeout'
  | 'not_found'
  /** A button or form that no longer applies (already decided, expired, from an old message). */
  | 'stale'
  /** The access policy refused who asked (the message names who may). */
  | 'forbidden';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    /** Safe to show to the person who asked: no secrets, no stack. */
    readonly userMessage: string,
    /** The same message with references a transport draws (`@sre`, `#ops`), when it has any. */
    readonly richMessage: RichText = userMessage,
    options?: { cause?: unknown },
  ) {
    super(userMessage, options);
    this.name = 'AppError';
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/**
 * A message for logs and audit rows: the error's own text, never the object (which may carry a
 * connection string), with anything secret-shaped masked. Every error that becomes text does so here.
 */
export function describeError(err: unknown): string {
  // A plain Error's name says nothing; a TypeError or AggregateError's does.
  const text = err instanceof Error ? (err.name === 'Error' ? err.message : `${err.name}: ${err.message}`) : String(err);
  return scrubSecrets(text);
}

/** Mask URL passwords and Slack tokens in free text (driver errors sometimes quote them). */
export function scrubSecrets(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi, '$1:***@')
    .replace(/\bx(ox[abeprs]|app)-[A-Za-z0-9-]+/g, 'x$1-***');
}
