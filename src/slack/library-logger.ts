import { LogLevel, type Logger as SlackLogger } from '@slack/web-api';
import { scrubSecrets } from '../core/errors.ts';
import type { Logger } from '../log.ts';

const LEVELS: Record<string, LogLevel> = { trace: LogLevel.DEBUG, debug: LogLevel.DEBUG, info: LogLevel.INFO, warn: LogLevel.WARN };

/**
 * Bolt's and the Web API client's own log lines go through pino at Vigil's level, with anything
 * token-shaped masked; their own level settings are ignored.
 */
export function slackLibraryLogger(log: Logger, component: string): SlackLogger {
  const child = log.child({ component });
  const text = (args: unknown[]) => scrubSecrets(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  return {
    debug: (...args) => child.debug(text(args)),
    info: (...args) => child.info(text(args)),
    warn: (...args) => child.warn(text(args)),
    error: (...args) => child.error(text(args)),
    setLevel: () => undefined,
    getLevel: () => LEVELS[child.level] ?? LogLevel.ERROR,
    setName: () => undefined,
  };
}
