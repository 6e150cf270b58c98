import { spawn } from 'node:child_process';
import { fillTemplate, type ParamValues } from '../params.ts';

export interface ExecOptions {
  timeoutMs: number;
  /** Bytes of stdout+stderr kept; the rest is read and dropped. */
  outputCapBytes: number;
  /** Names passed from `env` to the child (PATH and HOME are added by runnerSpecOf); nothing else is. */
  envAllow: readonly string[];
  /** Vigil's environment, as the composition root hands it over. */
  env: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /** Run as this user (Vigil as root); the child then starts in `/` unless `cwd` is given. */
  runAs?: { uid: number; gid: number } | null;
  signal: AbortSignal;
  /** Between SIGTERM and SIGKILL to the process group (default 5 s). */
  killGraceMs?: number;
}

export interface ExecResult {
  ok: boolean;
  /** Null when the process was killed by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved in arrival order, capped; with a marker when truncated. */
  output: string;
  truncated: boolean;
  durationMs: number;
  timedOut: boolean;
  aborted: boolean;
  /** The argv actually run (for the audit trail). */
  argv: string[];
  /** Set when the program could not be started (not found, not executable, bad cwd). */
  startError?: string;
}

// After the main process exits, its stdout may stay open in a child it left running (a restarted
// daemon that did not redirect its output); the run ends this long after the exit anyway.
const DRAIN_AFTER_EXIT_MS = 1500;

/** The argv a template gives with these values: one element per template element, never split. */
export function execArgv(argvTemplate: readonly string[], params: ParamValues): string[] {
  return argvTemplate.map((element) => fillTemplate(element, params));
}

/** Only PATH-like basics and the allow-listed names; Vigil's own secrets never reach the child. */
export function childEnv(envAllow: readonly string[], env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of envAllow) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/**
 * Run an argv without a shell: `;`, `$()`, quotes in a value are bytes of one argument. The child
 * leads its own process group, so a timeout or abort reaches what it started too: SIGTERM to the
 * group, SIGKILL `killGraceMs` later if anything is left.
 */
export function runExec(argvTemplate: readonly string[], params: ParamValues, opts: ExecOptions): Promise<ExecResult> {
  const argv = execArgv(argvTemplate, params);
  const started = Date.now();
  const chunks: Buffer[] = [];
  let kept = 0;
  let truncated = false;
  let timedOut = false;
  let aborted = opts.signal.aborted;

  const capture = (chunk: Buffer): void => {
    const room = opts.outputCapBytes - kept;
    if (room <= 0) {
      truncated = true;
      return;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length < chunk.length) truncated = true;
    chunks.push(part);
    kept += part.length;
  };

  const result = (fields: Pick<ExecResult, 'exitCode' | 'signal'> & { startError?: string }): ExecResult => {
    let output = Buffer.concat(chunks).toString('utf8');
    if (truncated) output += `\n… [output truncated at ${opts.outputCapBytes} bytes]`;
    const ok = fields.exitCode === 0 && !timedOut && !aborted && fields.startError === undefined;
    return { ok, ...fields, output, truncated, durationMs: Date.now() - started, timedOut, aborted, argv };
  };

  if (aborted) return Promise.resolve(result({ exitCode: null, signal: null, startError: 'aborted before start' }));

  return new Promise<ExecResult>((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      shell: false,
      detached: true, // its own process group: killing -pid reaches its children too
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(opts.envAllow, opts.env),
      // Vigil's own working directory may be closed to that user.
      ...(opts.cwd ? { cwd: opts.cwd } : opts.runAs ? { cwd: '/' } : {}),
      ...(opts.runAs ? { uid: opts.runAs.uid, gid: opts.runAs.gid } : {}),
    });
    child.stdout.on('data', capture);
    child.stderr.on('data', capture);

    let exit: { exitCode: number | null; signal: NodeJS.Signals | null } | null = null;
    let done = false;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // ESRCH: the whole group is gone already.
      }
    };
    const stop = (): void => {
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? 5000).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });

    const finish = (r: ExecResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      opts.signal.removeEventListener('abort', onAbort);
      // The SIGKILL stays armed after a timeout: a child ignoring SIGTERM still goes.
      if (!timedOut && !aborted) clearTimeout(killTimer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve(r);
    };

    child.once('error', (err) => finish(result({ exitCode: null, signal: null, startError: err.message })));
    child.once('exit', (exitCode, signal) => {
      exit = { exitCode, signal };
      drainTimer = setTimeout(() => finish(result(exit ?? { exitCode, signal })), DRAIN_AFTER_EXIT_MS);
    });
    child.once('close', (exitCode, signal) => finish(result(exit ?? { exitCode, signal })));
  });
}
