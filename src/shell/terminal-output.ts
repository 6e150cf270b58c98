import { writeSync } from 'node:fs';
import { clearScreenDown, cursorTo, moveCursor, type Interface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { LineWriter } from '../log.ts';

/**
 * The one way lines reach a terminal the shell is prompting on. A log line written while someone
 * types would land inside `vigil> /hea…`; instead the prompt and its input are wiped, the line is
 * written, and the prompt is drawn again below it with the input and cursor as they were.
 */
export interface TerminalOutput {
  /** For the logger: whole lines (ending in a newline) to fd 1 or 2. */
  write: LineWriter;
  /** The shell waits at its prompt on `rl` (drawn on `output`): lines go above it from now on. */
  promptShown(rl: Interface, output: Writable): void;
  /** The shell is busy answering, or gone: lines are written as they come. */
  promptHidden(): void;
}

export function createTerminalOutput(raw: LineWriter = (fd, text) => void writeSync(fd, text)): TerminalOutput {
  let prompt: { rl: Interface; output: Writable } | null = null;
  return {
    write(fd, text) {
      if (!prompt) return raw(fd, text);
      const { rl, output } = prompt;
      // The input may wrap: go up to the prompt's first row before clearing.
      const { rows } = rl.getCursorPos();
      if (rows > 0) moveCursor(output, 0, -rows);
      cursorTo(output, 0);
      clearScreenDown(output);
      raw(fd, text);
      // readline redraws by first moving up as many rows as the cursor was down in the input;
      // give it that many blank rows so it does not climb into the line just written.
      if (rows > 0) output.write('\n'.repeat(rows));
      rl.prompt(true);
    },
    promptShown(rl, output) {
      prompt = { rl, output };
    },
    promptHidden() {
      prompt = null;
    },
  };
}
