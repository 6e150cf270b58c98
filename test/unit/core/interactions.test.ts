import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bindCommands, defineCommand } from '../../../src/core/command.ts';
import { createDispatcher, type CommandRun } from '../../../src/core/dispatch.ts';
import { AppError } from '../../../src/core/errors.ts';
import { createInteractionDispatcher, replyButtons, RUN_COMMAND, type Click, type Interaction, type InteractionRun } from '../../../src/core/interactions.ts';
import { suggestionHandler } from '../../../src/core/suggestion-handler.ts';

const invoker = { surface: 'slack' as const, userId: 'U42', userName: 'ann', channelId: 'C1' };
const click = (handler: string, value = ''): Click => ({ kind: 'button', handler, value, invoker });

const whoami = defineCommand<{ positionals: string[] }, null>({
  name: 'whoami',
  summary: 'Who is asking',
  usage: '[word]',
  options: {},
  args: z.object({ positionals: z.array(z.string()).max(1, 'takes one word') }),
  async run(args, ctx) {
    return { title: 'whoami', status: 'ok', summary: `${ctx.invoker.userId} in ${ctx.invoker.channelId ?? '-'}: ${args.positionals.join(' ')}` };
  },
});

function setup() {
  const commandRuns: CommandRun[] = [];
  const runs: InteractionRun[] = [];
  const errors: string[] = [];
  const commands = createDispatcher({ commands: bindCommands([whoami], null), onRun: (r) => commandRuns.push(r) });
  const seen: Interaction[] = [];
  const interactions = createInteractionDispatcher({
    handlers: [
      suggestionHandler(commands),
      {
        id: 'approval.decide',
        async handle(i) {
          seen.push(i);
          if (i.kind === 'button' && i.value === 'old') throw new AppError('stale', 'Request 7 was already approved by bob.');
          if (i.kind === 'button' && i.value === 'bug') throw new Error('connect ECONNREFUSED postgres://vigil:hunter2@db');
          return { reply: { title: 'Approved', status: 'ok' }, replaceOriginal: true };
        },
      },
    ],
    onRun: (r) => runs.push(r),
    logError: (m) => errors.push(m),
  });
  return { interactions, runs, commandRuns, errors, seen };
}

describe('interaction dispatcher', () => {
  it('hands a click to the handler registered under its id, with who clicked and the value', async () => {
    const { interactions, runs, seen } = setup();
    const answer = await interactions.dispatch({ ...click('approval.decide', 'approve:7'), message: { channelId: 'C1', ts: '1.2' } });
    expect(answer).toEqual({ reply: { title: 'Approved', status: 'ok' }, replaceOriginal: true });
    expect(seen).toEqual([{ kind: 'button', handler: 'approval.decide', value: 'approve:7', invoker, message: { channelId: 'C1', ts: '1.2' } }]);
    expect(runs.map((r) => [r.handler, r.outcome, r.invoker.userId])).toEqual([['approval.decide', 'ok', 'U42']]);
  });

  it('explains an unknown button instead of staying silent', async () => {
    const { interactions, runs } = setup();
    const answer = await interactions.dispatch(click('gone.handler', 'x'));
    expect(answer.reply?.summary).toMatch(/no longer handled by Vigil/);
    expect(runs.map((r) => r.outcome)).toEqual(['stale']);
  });

  it('shows a stale handler’s own message, and hides an unexpected error behind a generic one', async () => {
    const { interactions, runs, errors } = setup();
    expect((await interactions.dispatch(click('approval.decide', 'old'))).reply?.summary).toBe('Request 7 was already approved by bob.');
    const failed = await interactions.dispatch(click('approval.decide', 'bug'));
    expect(failed.reply).toMatchObject({ status: 'fail', summary: 'Something went wrong handling this click. The error was logged.' });
    expect(JSON.stringify(failed)).not.toContain('hunter2');
    expect(errors).toEqual(['connect ECONNREFUSED postgres://vigil:***@db']);
    expect(runs.map((r) => r.outcome)).toEqual(['stale', 'error']);
  });

  it('runs a suggestion’s command as the person who clicked, through the command dispatcher', async () => {
    const { interactions, commandRuns } = setup();
    const answer = await interactions.dispatch(click(RUN_COMMAND, '/whoami hello'));
    expect(answer.reply?.summary).toBe('U42 in C1: hello');
    expect(commandRuns.map((r) => [r.command, r.outcome, r.invoker.surface])).toEqual([['whoami', 'ok', 'slack']]);
    // Pressing gets no more than typing: bad arguments get usage, an unknown command gets help.
    expect((await interactions.dispatch(click(RUN_COMMAND, '/whoami a b'))).reply?.summary).toBe('Bad arguments: arguments: takes one word');
    expect((await interactions.dispatch(click(RUN_COMMAND, '/nope'))).reply?.title).toBe('Vigil commands');
    expect((await interactions.dispatch(click(RUN_COMMAND, 'rm -rf /'))).reply?.summary).toBe('This button does not name a command.');
  });

  it('refuses two handlers with one id, and ids that cannot travel in an action_id', () => {
    const h = { id: 'dup', handle: async () => ({}) };
    expect(() => createInteractionDispatcher({ handlers: [h, h] })).toThrow(/share the id "dup"/);
    expect(() => createInteractionDispatcher({ handlers: [{ ...h, id: 'has#hash' }] })).toThrow(/must match/);
  });
});

describe('replyButtons', () => {
  it('lists a reply’s buttons, then its suggestions as run-command buttons', () => {
    expect(
      replyButtons({
        title: 't',
        status: 'ok',
        buttons: [{ handler: 'a.b', label: 'Ack', value: '1' }],
        suggestions: [{ label: 'Inspect emails', command: '/queue emails' }],
      }),
    ).toEqual([
      { handler: 'a.b', label: 'Ack', value: '1' },
      { handler: RUN_COMMAND, label: 'Inspect emails', value: '/queue emails' },
    ]);
  });
});
