import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Invoker } from '../core/command.ts';
import type { Dispatcher } from '../core/dispatch.ts';
import { replyButtons, type InteractionDispatcher } from '../core/interactions.ts';
import type { Button, Reply } from '../core/reply.ts';
import { renderJson, renderText } from '../render/text.ts';

export interface ShellOptions {
  commands: Dispatcher;
  interactions: InteractionDispatcher;
  input: Readable;
  output: Writable;
  userName: string;
  /** Show a prompt (a terminal) or read lines silently (a pipe). */
  interactive: boolean;
}

/**
 * The terminal front door, for when Slack is not set up: type `/health` (or `health`, or
 * `/vigil health`) and read the same Reply as text. A reply's buttons are numbered; typing the
 * number presses one, through the same interaction handlers a Slack click reaches.
 * Resolves when input ends or on `exit`.
 */
export function runShell(opts: ShellOptions): Promise<void> {
  const rl = createInterface({ input: opts.input, output: opts.output, terminal: opts.interactive, prompt: 'vigil> ' });
  const write = (text: string) => opts.output.write(`${text}\n`);
  const invoker: Invoker = { surface: 'shell', userId: opts.userName, userName: opts.userName };
  let choices: Button[] = [];
  let confirming: Button | null = null;

  const show = (reply: Reply, json = false) => {
    write(json ? renderJson(reply) : renderText(reply));
    choices = replyButtons(reply);
  };

  async function press(button: Button): Promise<void> {
    const answer = await opts.interactions.dispatch({ kind: 'button', handler: button.handler, value: button.value, invoker });
    if (answer.reply) show(answer.reply);
  }

  async function answer(line: string): Promise<void> {
    if (confirming) {
      const button = confirming;
      confirming = null;
      return /^y(es)?$/i.test(line) ? press(button) : void write('Cancelled.');
    }
    if (/^\d+$/.test(line)) {
      if (choices.length === 0) return void write('Nothing to choose: the last answer offered no choices.');
      const button = choices[Number(line) - 1];
      if (!button) return void write(`No choice ${line}: pick 1 to ${choices.length}.`);
      if (!button.confirm) return press(button);
      confirming = button;
      return void write(`${button.confirm.title}: ${button.confirm.text} [y/N]`);
    }
    const [first = '', ...rest] = line.split(/\s+/);
    // `health --verbose` works like `/vigil health --verbose`.
    const [slash, text] = first.startsWith('/') ? [first, rest.join(' ')] : ['/vigil', line];
    const { reply, flags } = await opts.commands.dispatch(slash, text, invoker);
    show(reply, flags.json);
  }

  if (opts.interactive) write('Vigil shell. Try /health, /queue, /slowqueries or /vigil help; a number picks a choice; exit to leave.');
  rl.prompt();
  // Lines are answered one at a time, in order, even when pasted in together.
  let chain = Promise.resolve();
  return new Promise((resolve) => {
    rl.on('line', (raw) => {
      chain = chain.then(async () => {
        const line = raw.trim();
        if (line === 'exit' || line === 'quit') return void rl.close();
        if (line !== '') await answer(line);
        rl.prompt();
      });
    });
    rl.on('close', () => void chain.then(resolve));
  });
}
