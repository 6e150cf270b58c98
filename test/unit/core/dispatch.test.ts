import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bindCommands, defineCommand, type Command } from '../../../src/core/command.ts';
import { createDispatcher, type CommandRun } from '../../../src/core/dispatch.ts';
import type { InspectDeps } from '../../../commands/deps.ts';
import { AppError } from '../../../src/core/errors.ts';

const echo = defineCommand({
  name: 'echo',
  summary: 'Say it back',
  usage: '[--times N] <word>',
  options: { times: { type: 'string' } },
  args: z.object({ times: z.coerce.number().int().min(1).max(3).default(1), positionals: z.array(z.string()).length(1, 'needs one word') }),
  async run(args, ctx) {
    return { title: 'echo', status: 'ok', summary: `${ctx.invoker.userId}: ${Array(args.times).fill(args.positionals[0]).join(' ')}` };
  },
});
const broken = defineCommand({
  name: 'broken',
  summary: 'Always fails',
  usage: '',
  options: {},
  args: z.object({ positionals: z.array(z.string()) }),
  async run(_args, ctx) {
    if (ctx.invoker.userId === 'app-error') throw new AppError('dependency_unavailable', 'Redis is not available.');
    throw new Error('connect ECONNREFUSED postgres://admin:s3cret@db');
  },
});

// Commands under test do not touch deps; the dispatcher only passes them through.
const deps = {} as InspectDeps;
const invoker = { surface: 'shell' as const, userId: 'U1' };

function setup(commands: readonly Command[] = [echo, broken]) {
  const runs: CommandRun[] = [];
  const errors: string[] = [];
  const dispatcher = createDispatcher({ commands: bindCommands(commands, deps), onRun: (r) => runs.push(r), logError: (m) => errors.push(m) });
  return { dispatcher, runs, errors };
}

describe('dispatcher', () => {
  it('reaches a command as /name and as /vigil name, with arguments and global flags', async () => {
    const { dispatcher, runs } = setup();
    const direct = await dispatcher.dispatch('/echo', '--times 2 hi', invoker);
    const umbrella = await dispatcher.dispatch('/vigil', 'echo hi --times 2 --public', invoker);
    expect(direct.reply.summary).toBe('U1: hi hi');
    expect(umbrella.reply.summary).toBe('U1: hi hi');
    expect(umbrella.reply.visibility).toBe('channel');
    expect(direct.reply.visibility).toBeUndefined();
    expect(runs.map((r) => [r.command, r.outcome])).toEqual([['echo', 'ok'], ['echo', 'ok']]);
  });

  it('answers an unknown command with help, and /vigil alone with help', async () => {
    const { dispatcher, runs } = setup();
    const unknown = await dispatcher.dispatch('/vigil', 'nope', invoker);
    expect(unknown.reply.summary).toContain('Unknown command "nope"');
    expect(JSON.stringify(unknown.reply.sections)).toContain('/echo [--times N] <word>');
    expect((await dispatcher.dispatch('/vigil', '', invoker)).reply.title).toBe('Vigil commands');
    expect(runs.map((r) => r.outcome)).toEqual(['unknown_command', 'ok']);
  });

  it('gives usage plus what was wrong for bad arguments, and runs nothing', async () => {
    const { dispatcher, runs } = setup();
    const result = await dispatcher.dispatch('/echo', '--times 9 hi', invoker);
    expect(result.reply.summary).toMatch(/Bad arguments: --times: .*3/);
    expect(JSON.stringify(result.reply.sections)).toContain('/echo [--times N] <word>');
    expect(runs[0]?.outcome).toBe('bad_args');
    expect((await dispatcher.dispatch('/echo', '--help', invoker)).reply.summary).toBe('Say it back');
  });

  it('shows an AppError message as is, and hides unexpected errors behind a generic reply', async () => {
    const { dispatcher, runs, errors } = setup();
    const known = await dispatcher.dispatch('/broken', '', { ...invoker, userId: 'app-error' });
    expect(known.reply).toMatchObject({ status: 'fail', summary: 'Redis is not available.' });
    const unknown = await dispatcher.dispatch('/broken', '', invoker);
    expect(unknown.reply.summary).toContain('Something went wrong');
    expect(JSON.stringify(unknown.reply)).not.toContain('s3cret');
    expect(errors).toHaveLength(1);
    expect(runs.map((r) => r.outcome)).toEqual(['unavailable', 'error']);
  });

  it('reads --json for terminals', async () => {
    const { dispatcher } = setup();
    expect((await dispatcher.dispatch('/vigil', 'echo x --json', invoker)).flags.json).toBe(true);
  });
});

describe('secrets in errors', () => {
  it('are masked before an unexpected error is logged or audited', async () => {
    const { dispatcher, runs, errors } = setup();
    await dispatcher.dispatch('/broken', '', invoker);
    expect(errors[0]).toContain('postgres://admin:***@db');
    expect(errors.join()).not.toContain('s3cret');
    expect(runs[0]?.error).not.toContain('s3cret');
  });
});

describe('a dependency failure', () => {
  it('is answered as which dependency, where and why when the explainer knows it, not "something went wrong"', async () => {
    const errors: string[] = [];
    const dispatcher = createDispatcher({
      commands: bindCommands([broken], deps),
      logError: (m) => errors.push(m),
      explainError: (err) => (String(err).includes('ECONNREFUSED') ? new AppError('dependency_unavailable', 'Postgres at db:5432 refused the connection.') : null),
    });
    const { reply, run } = await dispatcher.dispatch('/broken', '', invoker);
    expect(reply.summary).toBe('Postgres at db:5432 refused the connection.');
    expect(run.outcome).toBe('unavailable');
    expect(errors).toEqual([]); // not Vigil's bug: nothing to log as one
  });
});
