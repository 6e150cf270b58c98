import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs on stderr (stdout belongs to the shell and CLI output). Known secret-bearing keys
 * are redacted as a second line of defence; the first is never passing secrets to the logger.
 */
export function createLogger(level: string, destination: 1 | 2 = 2): Logger {
  return pino(
    {
      level,
      redact: {
        paths: ['token', 'botToken', 'appToken', 'signingSecret', 'password', 'connectionString', '*.token', '*.password', 'headers.authorization', 'headers["x-slack-signature"]'],
        censor: '[redacted]',
      },
      base: undefined,
    },
    pino.destination({ fd: destination, sync: true }),
  );
}
