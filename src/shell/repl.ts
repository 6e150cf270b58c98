import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Invoker } from '../core/command.ts';
import type { Dispatcher } from '../core/dispatch.ts';
import { replyButtons, type Form, type InteractionDispatcher } from '../core/interactions.ts';
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
  // A form being filled in: one line answers one field, in order.
  let filling: { form: Form; values: Record<string, string> } | null = null;

  const askNext = () => {
    const field = filling?.form.fields[Object.keys(filling.values).length];
    if (field) write(`${field.label}${field.hint ? ` (${field.hint})` : ''}:`);
  };

  const show = (reply: Reply, json = false) => {
    write(json ? renderJson(reply) : renderText(reply));
    choices = replyButtons(reply);
  };

  async function press(button: Button): Promise<void> {
    const answer = await opts.interactions.dispatch({ kind: 'button', handler: button.handler, value: button.value, invoker });
    if (answer.form) {
      filling = { form: answer.form, values: {} };
      write(`${answer.form.title} (an empty line cancels)`);
      return askNext();
    }
    if (answer.reply) show(answer.reply);
  }

  async function fill(line: string): Promise<void> {
    if (!filling) return;
    if (line === '') {
      filling = null;
      return void write('Cancelled.');
    }
    const { form, values } = filling;
    const field = form.fields[Object.keys(values).length];
    if (field) values[field.id] = line;
    if (Object.keys(values).length < form.fields.length) return askNext();
    filling = null;
    const answer = await opts.interactions.dispatch({ kind: 'form', handler: form.handler, values, privateMetadata: form.privateMetadata, invoker });
    if (answer.errors) return void write(Object.values(answer.errors).join('\n'));
    if (answer.reply) show(answer.reply);
  }

  async function answer(line: string): Promise<void> {
    if (filling) return fill(line);
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
        if (line !== '' || filling) await answer(line);
        rl.prompt();
      });
    });
    rl.on('close', () => void chain.then(resolve));
  });
}
