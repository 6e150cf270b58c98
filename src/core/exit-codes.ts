/**
 * Exit codes of both entry points (`vigil …` and the bot), defined once so scripts, cron jobs and
 * service managers can branch on them. 0–3 follow the Nagios plugin tradition (a check's status);
 * the rest come from sysexits.h, so a mistake in how Vigil was called or configured is never read
 * as the state of what it watches (a cron job reads 1 as "degraded").
 */
export const EXIT = {
  /** Everything checked is fine (or the tool did its job). */
  OK: 0,
  /** A check is degraded (status warn). */
  DEGRADED: 1,
  /**
   * Vigil itself failed (the bot could not start, a tool's database did not answer, an uncaught
   * error, which Node exits with 1 anyway). The same number as DEGRADED: a cron job cannot tell
   * them apart, so only what is known before anything runs (usage, configuration) gets its own code.
   */
  FAILED: 1,
  /** A check failed (status fail), or `audit verify` found the chain broken. */
  UNHEALTHY: 2,
  /** Nagios' UNKNOWN: nothing could be checked (no DATABASE_URL, REDIS_URL or running bot to borrow from). */
  NOTHING_TO_CHECK: 3,
  /** EX_USAGE: the command line was wrong (unknown command, bad arguments). */
  USAGE: 64,
  /** EX_DATAERR: an input file named on the command line is invalid (`npm run manifest -- --config`). */
  DATA_ERROR: 65,
  /** EX_NOPERM: the access policy refused this person (or an approval was refused: not an approver, own request). */
  NOPERM: 77,
  /** EX_CONFIG: the configuration (env, `.env`, the VIGIL_CONFIG YAML) is invalid or cannot be read. */
  CONFIG: 78,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What each code means, in the order help and docs/cli.md list them (a test compares the two). */
export const EXIT_CODES: readonly { code: ExitCode; meaning: string }[] = [
  { code: EXIT.OK, meaning: 'ok: every check passed, or the tool did its job' },
  { code: EXIT.DEGRADED, meaning: 'degraded (a check warns); also: Vigil itself failed (the state database did not answer a tool, the bot could not start)' },
  { code: EXIT.UNHEALTHY, meaning: 'unhealthy (a check fails), or `audit verify` found the chain broken' },
  { code: EXIT.NOTHING_TO_CHECK, meaning: 'nothing to check: no DATABASE_URL or REDIS_URL, and no running bot to borrow its embedded servers from' },
  { code: EXIT.USAGE, meaning: 'bad usage: unknown command, bad arguments, `migrate` without a database URL' },
  { code: EXIT.NOPERM, meaning: 'refused: the access policy does not let this person run it here, or a decision was refused (not an approver, their own request, expired)' },
  { code: EXIT.CONFIG, meaning: 'bad configuration: an invalid env value, `.env` or VIGIL_CONFIG file invalid, missing or unreadable' },
];
