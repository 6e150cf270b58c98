import { createInterface } from 'node:readline';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createTerminalOutput } from '../../../src/shell/terminal-output.ts';

/** Readline on a terminal stand-in: keys in, everything it draws collected. */
function promptWithTyped(typed: string) {
  let drawn = '';
  const output = new Writable({ write: (chunk: Buffer, _enc, done) => ((drawn += chunk.toString()), done()) });
  const input = new PassThrough();
  const rl = createInterface({ input, output, terminal: true, prompt: 'vigil> ' });
  rl.prompt();
  input.write(typed);
  const terminal = createTerminalOutput((fd, text) => void output.write(text));
  return { rl, output, terminal, drawn: () => drawn, reset: () => (drawn = '') };
}

describe('terminal output under a prompt', () => {
  it('wipes the prompt and its typed input, writes the log line, then draws them again', async () => {
    const t = promptWithTyped('/hea');
    await new Promise((r) => setImmediate(r));
    expect(t.rl.line).toBe('/hea');
    t.terminal.promptShown(t.rl, t.output);
    t.reset();
    t.terminal.write(2, 'WARN  Redis: reconnecting\n');
    // Cursor to column 1, clear to the end of the screen, the line, then the prompt with the input.
    expect(t.drawn()).toBe('\x1b[1G\x1b[0JWARN  Redis: reconnecting\n\x1b[1G\x1b[0Jvigil> /hea\x1b[12G');
    expect(t.rl.line).toBe('/hea');
    t.rl.close();
  });

  it('writes straight through while no prompt is showing (a command is being answered)', () => {
    const t = promptWithTyped('');
    t.terminal.promptShown(t.rl, t.output);
    t.terminal.promptHidden();
    t.reset();
    t.terminal.write(1, 'HTTP: up\n');
    expect(t.drawn()).toBe('HTTP: up\n');
    t.rl.close();
  });
});
