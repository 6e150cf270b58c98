import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Lines kept across runs; older ones are dropped. */
export const HISTORY_SIZE = 500;

/**
 * The shell's history in a file, oldest line first (like ~/.bash_history). Readline wants it
 * newest first, so both directions reverse. Owner-only (0600): typed lines can name hosts and users.
 */
export interface HistoryFile {
  /** Newest first, at most HISTORY_SIZE; empty when the file does not exist yet. */
  load(): string[];
  /** `history` newest first, as readline's 'history' event gives it. Throws when it cannot write. */
  save(history: readonly string[]): void;
}

export function historyFile(path: string): HistoryFile {
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      return text.split('\n').filter((l) => l.trim() !== '').slice(-HISTORY_SIZE).reverse();
    },
    save(history) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // Completion leaves a trailing space (`/health `): stored trimmed, each line once (its newest use).
      const lines = [...new Set(history.map((l) => l.trim()).filter((l) => l !== ''))].slice(0, HISTORY_SIZE).reverse();
      writeFileSync(path, lines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
      // `mode` applies only when the file is created; an older file may be more open.
      chmodSync(path, 0o600);
    },
  };
}
