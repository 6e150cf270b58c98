import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bindCommands, defineCommand, type Command } from '../../../src/core/command.ts';
import { createDispatcher, type CommandRun } from '../../../src/core/dispatch.ts';
import type { InspectDeps } from '../../../commands/deps.ts';

/**
 * The dispatcher's lean path: a command typed without arguments is parsed once (parseArgs and the
 * zod schema), not on every run, and help is one reply built once.
 */

const deps = {} as InspectDeps;
const invoker = { surface: 'slack' as const, userId: 'U1' };

/** Its schema counts how often it parses: what the run sees says how many parses there were. */
function countingCommand(): Command {
  let parses = 0;
  return defineCommand({
    name: 'count',
    summary: 'Says how often its arguments were parsed',
    usage: '[--loud] [word]',
    options: { loud: { type: 'boolean' } },
    args: z
      .object({ loud: z.boolean().default(false), positionals: z.array(z.string()).max(1) })
      .transform((args) => ({ ...args, parse: ++parses })),
    async run(args) {
      return { title: 'count', status: 'ok', summary: `parse ${args.parse}`, data: args };
    },
  });
}

/** Needs a word: an empty argument list is always a bad_args answer. */
const needsWord = defineCommand({
  name: 'needs',
  summary: 'Needs one word',
  usage: '<word>',
  options: {},
  args: z.object({ positionals: z.array(z.string()).length(1, 'needs one word') }),
  async run(args) {
    return { title: 'needs', status: 'ok', summary: args.positionals[0] ?? '' };
  },
});

function setup(commands: readonly Command[]) {
  const runs: CommandRun[] = [];
  const dispatcher = createDispatcher({ commands: bindCommands(commands, deps), onRun: (r) => runs.push(r) });
  return { dispatcher, runs };
}

describe('dispatcher, lean path', () => {
  it('parses an empty argument list once per command and hands every run the same frozen result', async () => {
    const { dispatcher } = setup([countingCommand()]);
    const first = await dispatcher.dispatch('/count', '', invoker);
    const second = await dispatcher.dispatch('/vigil', 'count', invoker);
    // Global flags are taken out first: what is left is still an empty list.
    const publicly = await dispatcher.dispatch('/count', '--public', invoker);
    expect([first, second, publicly].map((r) => r.reply.summary)).toEqual(['parse 1', 'parse 1', 'parse 1']);
    expect(publicly.reply.visibility).toBe('channel');
    expect(first.reply.data).toBe(second.reply.data);
    expect(Object.isFrozen(first.reply.data)).toBe(true);
    expect(Object.isFrozen((first.reply.data as { positionals: string[] }).positionals)).toBe(true);
  });

  it('still parses every argument list that is not empty', async () => {
    const { dispatcher } = setup([countingCommand()]);
    expect((await dispatcher.dispatch('/count', '', invoker)).reply.summary).toBe('parse 1');
    expect((await dispatcher.dispatch('/count', '--loud', invoker)).reply.summary).toBe('parse 2');
    expect((await dispatcher.dispatch('/count', 'word', invoker)).reply.summary).toBe('parse 3');
    expect((await dispatcher.dispatch('/count', '', invoker)).reply.summary).toBe('parse 1');
  });

  it('answers an empty list its schema refuses with usage every time, not only the first', async () => {
    const { dispatcher, runs } = setup([needsWord]);
    const first = await dispatcher.dispatch('/needs', '', invoker);
    const second = await dispatcher.dispatch('/needs', '', invoker);
    for (const r of [first, second]) expect(r.reply.summary).toBe('Bad arguments: arguments: needs one word');
    expect(runs.map((r) => r.outcome)).toEqual(['bad_args', 'bad_args']);
    expect((await dispatcher.dispatch('/needs', 'hello', invoker)).reply.summary).toBe('hello');
  });

  it('answers help with one frozen reply, built once', async () => {
    const { dispatcher, runs } = setup([needsWord]);
    const a = await dispatcher.dispatch('/vigil', 'help', invoker);
    const b = await dispatcher.dispatch('/vigil', '', invoker);
    expect(a.reply).toBe(b.reply);
    expect(Object.isFrozen(a.reply)).toBe(true);
    expect(JSON.stringify(a.reply.sections)).toContain('/needs <word>');
    // An unknown name is in its reply: that one is built for it.
    const unknown = await dispatcher.dispatch('/vigil', 'nope', invoker);
    expect(unknown.reply.summary).toContain('Unknown command "nope"');
    expect(runs.map((r) => r.outcome)).toEqual(['ok', 'ok', 'unknown_command']);
  });
});
