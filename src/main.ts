import { userInfo } from 'node:os';
import { loadConfigOrReport } from './config/load.ts';
import { createLogger } from './log.ts';
import { runShell } from './shell/repl.ts';
import { startVigil } from './vigil.ts';
import { describeError } from './core/errors.ts';

/** Start Vigil: Slack (HTTP or Socket Mode) when configured, else the shell; always the HTTP server. */
async function main(): Promise<number> {
  const config = loadConfigOrReport((text) => process.stderr.write(text));
  if (!config) return 1;
  const log = createLogger(config.env.LOG_LEVEL);
  const announce = (line: string) => process.stdout.write(`${line}\n`);
  announce(`Config: ${config.fileSource}`);

  let vigil;
  try {
    vigil = await startVigil({ config, log, announce, embedded: true });
  } catch (err) {
    process.stderr.write(`${describeError(err)}\n`);
    return 1;
  }
  const shutdown = async (code: number) => {
    await vigil.stop().catch((err: unknown) => log.error({ err: describeError(err) }, 'shutdown failed'));
    process.exit(code);
  };
  // Embedded Postgres and Redis are child processes: stop them on Ctrl-C and on SIGTERM too.
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  if (config.slack.kind !== 'none') {
    announce('Vigil is ready.');
    return await new Promise<number>(() => undefined); // runs until a signal
  }
  const user = userInfo().username;
  await runShell({ commands: vigil.container.commands, interactions: vigil.container.interactions, input: process.stdin, output: process.stdout, userName: user, interactive: Boolean(process.stdin.isTTY) });
  await vigil.stop();
  return 0;
}

process.exit(await main());
