import { clearScreenDown, createInterface, cursorTo, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { terminalInvoker, type TerminalUser } from '../access/terminal-user.ts';
import type { Invoker } from '../core/command.ts';
import type { Dispatcher } from '../core/dispatch.ts';
import { replyButtons, type Form, type FormOption, type InteractionDispatcher } from '../core/interactions.ts';
import type { Button, Reply } from '../core/reply.ts';
import { renderFormField, renderFormStart, renderJson, renderText } from '../render/text.ts';
import { createCompleter, type CompletableCommand } from './complete.ts';
import { HISTORY_SIZE, historyFile } from './history.ts';
import type { TerminalOutput } from './terminal-output.ts';

export interface ShellOptions {
  commands: Dispatcher;
  interactions: InteractionDispatcher;
  input: Readable;
  output: Writable;
  /** Who types: see src/access/terminal-user.ts. */
  user: TerminalUser;
  /** A terminal: prompt, line editing, completion, history, Ctrl-C. Otherwise (a pipe) lines are read silently. */
  interactive: boolean;
  /** The commands Tab completes, with their flags (interactive only). */
  completion?: readonly CompletableCommand[];
  /** Where history is kept across runs (interactive only); none when absent. */
  historyPath?: string;
  /** Told when the prompt shows and hides, so that log lines are written above it. */
  terminal?: TerminalOutput;
}

/**
 * The terminal front door, for when Slack is not set up: type `/health` (or `health`, or
 * `/vigil health`) and read the same Reply as text. A reply's buttons are numbered; typing the
 * number presses one, through the same interaction handlers a Slack click reaches.
 * Resolves when input ends or on `exit`.
 */
export function runShell(opts: ShellOptions): Promise<void> {
  const write = (text: string) => opts.output.write(`${text}\n`);
  const rl = opts.interactive ? openTerminal(opts, write) : createInterface({ input: opts.input, terminal: false });
  const invoker: Invoker = terminalInvoker('shell', opts.user);
  let choices: Button[] = [];
  let confirming: Button | null = null;
  // A form being filled in: one line answers one field, in order.
  let filling: { form: Form; values: Record<string, string> } | null = null;

  const askNext = () => {
    const field = filling?.form.fields[Object.keys(filling.values).length];
    if (field) write(renderFormField(field));
  };

  const show = (reply: Reply, json = false) => {
    write(json ? renderJson(reply) : renderText(reply));
    choices = replyButtons(reply);
  };

  async function press(button: Button): Promise<void> {
    const answer = await opts.interactions.dispatch({ kind: 'button', handler: button.handler, value: button.value, invoker });
    if (answer.form) {
      filling = { form: answer.form, values: {} };
      write(renderFormStart(answer.form));
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
    if (field) {
      const value = field.options ? chosen(field.options, line) : line;
      // A wrong choice asks the same question again; only an empty line leaves the form.
      if (value === null) {
        write(`Not a choice: "${line}". Type a number from 1 to ${field.options?.length ?? 0}, or an option's value.`);
        return askNext();
      }
      values[field.id] = value;
    }
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

  // Lines are answered one at a time, in order, even when pasted in together.
  let chain = Promise.resolve();
  let pending = 0;
  let leaving = false;
  const showPrompt = () => {
    if (!opts.interactive) return; // a pipe gets answers only, no prompt
    rl.prompt();
    opts.terminal?.promptShown(rl, opts.output);
  };

  if (opts.interactive) {
    write('Vigil shell. Try /health, /queue, /slowqueries or /vigil help; Tab completes; a number picks a choice; Ctrl-D or exit leaves.');
    // Ctrl-C drops what is being typed (or the form or question being answered), never Vigil.
    rl.on('SIGINT', () => {
      if (pending > 0) return; // an answer is on its way; the prompt comes back with it
      const wasEmpty = rl.line === '' && !filling && !confirming;
      const cancelled = filling !== null || confirming !== null;
      filling = null;
      confirming = null;
      dropTypedLine(rl, opts.output);
      if (cancelled) write('Cancelled.');
      else if (wasEmpty) write('(To leave, type exit or press Ctrl-D.)');
      showPrompt();
    });
  }
  showPrompt();
  return new Promise((resolve) => {
    rl.on('line', (raw) => {
      opts.terminal?.promptHidden();
      pending++;
      chain = chain.then(async () => {
        const line = raw.trim();
        if (line === 'exit' || line === 'quit') {
          leaving = true;
          return void rl.close();
        }
        try {
          if (line !== '' || filling) await answer(line);
        } finally {
          if (--pending === 0) showPrompt();
        }
      });
    });
    rl.on('close', () => {
      opts.terminal?.promptHidden();
      // Ctrl-D leaves the cursor after the prompt; what follows (stop lines) starts on its own line.
      if (opts.interactive && !leaving) opts.output.write('\n');
      void chain.then(resolve);
    });
  });
}

/** The option a line picks: its number as listed (which wins over a value that is a number too), or its exact value. */
function chosen(options: FormOption[], line: string): string | null {
  const byNumber = /^\d+$/.test(line) ? options[Number(line) - 1] : undefined;
  return (byNumber ?? options.find((o) => o.value === line))?.value ?? null;
}

/** Readline on a terminal: prompt, echo, Tab completion, and history kept across runs when there is a path. */
function openTerminal(opts: ShellOptions, write: (text: string) => void): Interface {
  const history = opts.historyPath ? historyFile(opts.historyPath) : null;
  let loaded: string[] = [];
  try {
    loaded = history?.load() ?? [];
  } catch (err) {
    write(`History not loaded: ${(err as Error).message}`);
  }
  const rl = createInterface({
    input: opts.input,
    output: opts.output,
    terminal: true,
    prompt: 'vigil> ',
    history: loaded,
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    ...(opts.completion ? { completer: createCompleter(opts.completion) } : {}),
  });
  let warned = false;
  rl.on('history', (lines: string[]) => {
    try {
      history?.save(lines);
    } catch (err) {
      // Said after readline has ended the typed line, so it does not land on the prompt's row.
      if (!warned) queueMicrotask(() => write(`History not saved: ${(err as Error).message}`));
      warned = true;
    }
  });
  return rl;
}

/**
 * End the typed line with `^C` (as a shell does), empty readline's buffer and leave the cursor at
 * the start of a fresh row. Readline redraws by first moving up as many rows as its cursor was down
 * in a wrapped input, hence the extra newlines before Ctrl-U empties the buffer and redraws.
 */
function dropTypedLine(rl: Interface, output: Writable): void {
  rl.write(null, { ctrl: true, name: 'e' }); // to the end, so ^C follows the text
  const { rows } = rl.getCursorPos();
  output.write(`^C${'\n'.repeat(rows + 1)}`);
  rl.write(null, { ctrl: true, name: 'u' }); // empties the buffer and draws an empty prompt…
  cursorTo(output, 0); // …which the caller's message or prompt replaces
  clearScreenDown(output);
}
