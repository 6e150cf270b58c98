import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Dispatcher } from '../core/dispatch.ts';
import { renderJson, renderText } from '../render/text.ts';

export interface ShellOptions {
  dispatcher: Dispatcher;
  input: Readable;
  output: Writable;
  userName: string;
  /** Show a prompt (a terminal) or read lines silently (a pipe). */
  interactive: boolean;
}

/**
 * The terminal front door, for when Slack is not set up: type `/health` (or `health`, or
 * `/vigil health`) and read the same Reply as text. Resolves when input ends or on `exit`.
 */
export function runShell(opts: ShellOptions): Promise<void> {
  const rl = createInterface({ input: opts.input, output: opts.output, terminal: opts.interactive, prompt: 'vigil> ' });
  const write = (text: string) => opts.output.write(`${text}\n`);
  if (opts.interactive) write('Vigil shell. Try /health, /queue, /slowqueries or /vigil help; exit to leave.');
  rl.prompt();
  // Lines are answered one at a time, in order, even when pasted in together.
  let chain = Promise.resolve();
  return new Promise((resolve) => {
    rl.on('line', (line) => {
      chain = chain.then(async () => {
        const trimmed = line.trim();
        if (trimmed === 'exit' || trimmed === 'quit') return void rl.close();
        if (trimmed !== '') {
          const [first = '', ...rest] = trimmed.split(/\s+/);
          // `health --verbose` works like `/vigil health --verbose`.
          const [slash, text] = first.startsWith('/') ? [first, rest.join(' ')] : ['/vigil', trimmed];
          const { reply, flags } = await opts.dispatcher.dispatch(slash, text, { surface: 'shell', userId: opts.userName, userName: opts.userName });
          write(flags.json ? renderJson(reply) : renderText(reply));
        }
        rl.prompt();
      });
    });
    rl.on('close', () => void chain.then(resolve));
  });
}
