import type { z } from 'zod';
import type { OptionSpec } from './args.ts';
import type { Reply } from './reply.ts';

/** Who asked, and through which front door. Used for audit and for per-surface wording. */
export interface Invoker {
  surface: 'slack' | 'shell' | 'cli';
  userId: string;
  userName?: string;
  channelId?: string;
  teamId?: string;
}

export interface CommandContext<D = unknown> {
  deps: D;
  invoker: Invoker;
}

/**
 * One slash command. Declares its arguments (node parseArgs options + a zod schema over
 * `{ ...options, positionals }`) and answers with a Reply. It never imports Slack code and never
 * changes anything in production: actions go through approvals.
 */
export interface Command<A = unknown, D = unknown> {
  name: string;
  summary: string;
  /** Argument synopsis without the command name, e.g. `[name] [--json]`. */
  usage: string;
  options: OptionSpec;
  args: z.ZodType<A>;
  run(args: A, ctx: CommandContext<D>): Promise<Reply>;
}

/**
 * Keeps `A` inferred from the schema while the registry stores commands uniformly. The cast is
 * sound because the dispatcher only ever calls `run` with the output of the same `args` schema.
 */
export function defineCommand<A, D = unknown>(command: Command<A, D>): Command<unknown, D> {
  return command as unknown as Command<unknown, D>;
}

/** What help and the Slack manifest show of a command. */
export type CommandInfo = Pick<Command<unknown, unknown>, 'name' | 'summary' | 'usage'>;

/** A command joined with the services it runs against: what a feature hands the dispatcher. */
export interface BoundCommand extends Omit<Command<unknown, never>, 'run'> {
  run(args: unknown, invoker: Invoker): Promise<Reply>;
}

/** Give each command its feature's services, so the dispatcher needs to know none of them. */
export function bindCommands<D>(commands: readonly Command<unknown, D>[], deps: D): BoundCommand[] {
  return commands.map((c) => ({ ...c, run: (args, invoker) => c.run(args, { deps, invoker }) }));
}
