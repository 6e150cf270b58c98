/**
 * Typed errors with a stable code and a message that is safe to show a user. Handled at exactly
 * three boundaries (listener, HTTP server, worker); anything else is a bug and gets a generic reply.
 */
export type ErrorCode =
  | 'bad_args'
  | 'unknown_command'
  | 'dependency_unavailable'
  | 'timeout'
  | 'not_found'
  | 'config_invalid';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    /** Safe to show to the person who asked: no secrets, no stack. */
    readonly userMessage: string,
    options?: { cause?: unknown },
  ) {
    super(userMessage, options);
    this.name = 'AppError';
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** A message for logs: the error's own text, never the object (which may carry a connection string). */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
