import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bindCommands, defineCommand } from '../../../src/core/command.ts';
import { createDispatcher } from '../../../src/core/dispatch.ts';
import { createInteractionDispatcher, type Form, type FormSubmission } from '../../../src/core/interactions.ts';
import { runShell } from '../../../src/shell/repl.ts';

/** A reply with one button whose press opens `form`, as an alert's "Silence 1h" will. */
const alert = defineCommand<{ positionals: string[] }, null>({
  name: 'alert',
  summary: 'An alert group',
  usage: '',
  options: {},
  args: z.object({ positionals: z.array(z.string()).max(0) }),
  async run() {
    return { title: 'ApiDown (2 alerts)', status: 'fail', buttons: [{ handler: 'test.open', label: 'Silence 1h', value: 'g1' }] };
  },
});

const FORM: Form = {
  handler: 'test.submit',
  title: 'Silence 1h',
  intro: ['Silences alertname="ApiDown", env="prod": 2 alerts. Asked by ', { user: 'alice' }],
  submit: 'Request',
  fields: [
    {
      id: 'scope',
      label: 'Silence',
      hint: 'or only one alert',
      options: [
        { value: 'group', label: 'The whole group (2 alerts)' },
        { value: '1', label: 'Only ApiDown{instance="db1"}' },
      ],
      initial: 'group',
    },
    { id: 'reason', label: 'Why?', hint: 'Shown to approvers' },
  ],
  privateMetadata: 'g1',
};

/** The shell on a pipe, fed `lines`: what it printed and the forms it submitted. */
async function shell(lines: string[]): Promise<{ out: string; submitted: FormSubmission[] }> {
  const submitted: FormSubmission[] = [];
  const interactions = createInteractionDispatcher({
    handlers: [
      { id: 'test.open', handle: async () => ({ form: FORM }) },
      {
        id: 'test.submit',
        async handle(i) {
          if (i.kind === 'form') submitted.push(i);
          return { reply: { title: 'Requested', status: 'ok', summary: i.kind === 'form' ? JSON.stringify(i.values) : '' } };
        },
      },
    ],
  });
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const done = runShell({ commands: createDispatcher({ commands: bindCommands([alert], null) }), interactions, input, output, user: { userId: 'alice', userName: 'alice' }, interactive: false });
  input.end(lines.map((l) => `${l}\n`).join(''));
  await done;
  return { out, submitted };
}

const QUESTION = ['Silence (or only one alert), type the number:', '  1) The whole group (2 alerts) (suggested)', '  2) Only ApiDown{instance="db1"}'].join('\n');

describe('a form in the shell', () => {
  it('shows the intro, numbers a choice, takes its number, and submits the option’s value', async () => {
    const { out, submitted } = await shell(['/alert', '1', '2', 'deploy in progress']);
    expect(out).toContain(`Silence 1h (an empty line cancels)\nSilences alertname="ApiDown", env="prod": 2 alerts. Asked by @alice\n${QUESTION}\nWhy? (Shown to approvers):\n`);
    expect(submitted.map((s) => [s.values, s.privateMetadata])).toEqual([[{ scope: '1', reason: 'deploy in progress' }, 'g1']]);
    expect(out).toContain('[ok] Requested\n{"scope":"1","reason":"deploy in progress"}');
  });

  it('takes an option’s exact value; a number is the listed position even when a value is that number', async () => {
    expect((await shell(['/alert', '1', 'group', 'x'])).submitted[0]?.values).toEqual({ scope: 'group', reason: 'x' });
    expect((await shell(['/alert', '1', '1', 'x'])).submitted[0]?.values).toEqual({ scope: 'group', reason: 'x' });
  });

  it('asks the same question again after an answer that is no choice', async () => {
    const { out, submitted } = await shell(['/alert', '1', 'everything', '3', 'Group', '2', 'because']);
    for (const wrong of ['everything', '3', 'Group']) {
      expect(out).toContain(`Not a choice: "${wrong}". Type a number from 1 to 2, or an option's value.\n${QUESTION}\n`);
    }
    expect(out.split(QUESTION)).toHaveLength(5); // asked once, then again after each of the three
    expect(submitted.map((s) => s.values)).toEqual([{ scope: '1', reason: 'because' }]);
  });

  it('leaves the form on an empty line, at a choice as at a text field', async () => {
    const atChoice = await shell(['/alert', '1', '', '1']);
    expect(atChoice.out).toContain(`${QUESTION}\nCancelled.\n`);
    expect(atChoice.submitted).toEqual([]);
    const atText = await shell(['/alert', '1', '2', '']);
    expect(atText.out).toContain('Why? (Shown to approvers):\nCancelled.\n');
    expect(atText.submitted).toEqual([]);
  });
});
