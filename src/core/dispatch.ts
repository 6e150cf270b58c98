import type { BoundCommand, Invoker } from './command.ts';
import { parseCommandArgs, tokenize } from './args.ts';
import { describeError, isAppError, type AppError, type ErrorCode } from './errors.ts';
import { elapsedMs } from './timeout.ts';
import { helpReply, usageReply } from './help.ts';
import { richTextString, type Reply } from './reply.ts';
import type { Refusal } from './refusal.ts';

export type Outcome = 'ok' | 'bad_args' | 'unknown_command' | 'not_found' | 'unavailable' | 'error' | 'refused';

/** Flags every command understands; the dispatcher takes them out before the command parses. */
export interface GlobalFlags {
  json: boolean;
  public: boolean;
}

export interface CommandRun {
  command: string;
  text: string;
  invoker: Invoker;
  outcome: Outcome;
  durationMs: number;
  /** Safe error text for the audit row (never a secret: AppError messages are user-safe). */
  error?: string;
  /** The access rule that refused the run (outcome `refused`). */
  refusedBy?: string;
}

export interface DispatchResult {
  reply: Reply;
  flags: GlobalFlags;
  run: CommandRun;
  /** Settles once the run's audit event is safe from a process kill (see `recordRun`); never rejects. */
  recorded: Promise<void>;
}

export interface DispatcherDeps {
  commands: readonly BoundCommand[];
  /** Called once per run, after the reply is ready (metrics, access counters). Must not throw. */
  onRun?: (run: CommandRun) => void;
  /**
   * The run's audit event. Resolves once it is safe from a process kill (committed, or on local
   * disk), so a Slack answer that waits for it is never shown for a run the trail then lacks.
   */
  recordRun?: (run: CommandRun) => Promise<void>;
  logError?: (message: string, run: CommandRun) => void;
  /** A dependency's failure (Postgres refused, Redis not connected) as a clear error; null for Vigil's own bugs. */
  explainError?: (err: unknown) => AppError | null;
  /**
   * The access policy: why `invoker` may not run `command` here (with `--public`), or null. Asked
   * before the command parses or runs anything, so a refusal shows nothing of its answer.
   */
  authorize?: (command: string, invoker: Invoker, asPublic: boolean) => Promise<Refusal | null>;
}

export interface Dispatcher {
  /** `slash` is the command as typed (`/health`, `/vigil`), `text` what followed it. */
  dispatch(slash: string, text: string, invoker: Invoker): Promise<DispatchResult>;
}

const UMBRELLA = 'vigil';
const DONE: Promise<void> = Promise.resolve();

/** How an AppError counts in metrics and the audit: a missing dependency is not a Vigil bug. */
const OUTCOME_BY_CODE: Partial<Record<ErrorCode, Outcome>> = {
  dependency_unavailable: 'unavailable',
  timeout: 'unavailable',
  not_found: 'not_found',
  forbidden: 'refused',
};

export function createDispatcher(d: DispatcherDeps): Dispatcher {
  const byName = new Map(d.commands.map((c) => [c.name, c]));
  // The same every time: built once, and frozen so renderers may reuse what they make of it.
  const help = Object.freeze(helpReply(d.commands));
  const emptyArgs = new Map<BoundCommand, { args: unknown } | { error: unknown }>();

  /**
   * A command typed with no arguments (most are) parses to the same thing every time: parse once
   * per command and reuse it (frozen, so no run can change it for the next), or its error.
   */
  function argsFor(command: BoundCommand, words: string[]): unknown {
    if (words.length > 0) return parseCommandArgs(words, command.options, command.args);
    let parsed = emptyArgs.get(command);
    if (!parsed) {
      try {
        parsed = { args: deepFreeze(parseCommandArgs([], command.options, command.args)) };
      } catch (error) {
        parsed = { error };
      }
      emptyArgs.set(command, parsed);
    }
    if ('error' in parsed) throw parsed.error;
    return parsed.args;
  }

  async function dispatch(slash: string, text: string, invoker: Invoker): Promise<DispatchResult> {
    const start = performance.now();
    const { words, flags } = takeGlobalFlags(text === '' ? [] : tokenize(text));
    let name = slash.replace(/^\//, '').toLowerCase();
    // `/vigil health …` reaches the same command as `/health …`.
    if (name === UMBRELLA) name = (words.shift() ?? 'help').toLowerCase();
    const command = byName.get(name);
    const finish = (reply: Reply, outcome: Outcome, error?: string, refusedBy?: string): DispatchResult => {
      const run: CommandRun = { command: command?.name ?? name, text, invoker, outcome, durationMs: elapsedMs(start), ...(error ? { error } : {}), ...(refusedBy ? { refusedBy } : {}) };
      d.onRun?.(run);
      const recorded = d.recordRun ? d.recordRun(run).catch(() => undefined) : DONE;
      // A refusal is for the person who asked, whatever --public said.
      return { reply: flags.public && outcome !== 'refused' ? { ...reply, visibility: 'channel' } : reply, flags, run, recorded };
    };
    /** A thrown error as the answer: the person's mistake, a dependency down, or Vigil's bug (logged). */
    const failed = (thrown: unknown): DispatchResult => {
      const err = isAppError(thrown) ? thrown : (d.explainError?.(thrown) ?? thrown);
      if (isAppError(err) && err.code === 'bad_args' && command) return finish(usageReply(command, err.userMessage), 'bad_args', err.userMessage);
      if (isAppError(err)) return finish({ title: `/${name}`, status: 'fail', summary: err.richMessage }, OUTCOME_BY_CODE[err.code] ?? 'error', err.userMessage, refusedRule(err));
      const result = finish({ title: `/${name}`, status: 'fail', summary: 'Something went wrong running this command. The error was logged.' }, 'error', describeError(err));
      d.logError?.(describeError(err), result.run);
      return result;
    };

    try {
      if (name === 'help' || (!command && name === '')) return finish(await helpFor(invoker), 'ok');
      if (!command) return finish(await helpFor(invoker, `Unknown command "${name}".`), 'unknown_command');
      // Before parsing or running anything: a refusal shows nothing of the answer, not even usage.
      const refusal = await d.authorize?.(command.name, invoker, flags.public);
      if (refusal) return finish({ title: `/${command.name}`, status: 'fail', summary: refusal.message }, 'refused', richTextString(refusal.message), refusal.rule);
      if (flags.help) return finish(usageReply(command), 'ok');
      return finish(await command.run(argsFor(command, words), invoker), 'ok');
    } catch (thrown) {
      // A policy that cannot be asked fails closed here too: nothing ran.
      return failed(thrown);
    }
  }

  /** Help lists the commands this person may run; those a policy keeps from them are counted. */
  async function helpFor(invoker: Invoker, problem?: string): Promise<Reply> {
    const authorize = d.authorize;
    const all = problem ? helpReply(d.commands, problem) : help;
    if (!authorize) return all;
    const allowed = await Promise.all(d.commands.map(async (c) => (await authorize(c.name, invoker, false)) === null));
    const open = d.commands.filter((_, i) => allowed[i]);
    if (open.length === d.commands.length) return all;
    const hidden = d.commands.length - open.length;
    const reply = helpReply(open, problem);
    return { ...reply, notes: [...(reply.notes ?? []), `${hidden} more command${hidden === 1 ? ' is' : 's are'} for other people or channels (see access in the config).`] };
  }

  return { dispatch };
}

/** Exported for the CLI's router (src/cli/route.ts), so it finds the command name as dispatch does. */
export function takeGlobalFlags(words: string[]): { words: string[]; flags: GlobalFlags & { help: boolean } } {
  const flags = { json: false, public: false, help: false };
  const rest: string[] = [];
  for (const word of words) {
    if (word === '--json') flags.json = true;
    else if (word === '--public') flags.public = true;
    else if (word === '--help' || word === '-h') flags.help = true;
    else rest.push(word);
  }
  return { words: rest, flags };
}

/** Freeze plain objects and arrays all the way down: command arguments, replies and their renderings. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** The rule behind a refusal thrown from deeper down (an action's requesters), for the audit row. */
function refusedRule(err: AppError): string | undefined {
  const cause: unknown = err.cause;
  return err.code === 'forbidden' && typeof cause === 'object' && cause !== null && 'rule' in cause && typeof cause.rule === 'string' ? cause.rule : undefined;
}
