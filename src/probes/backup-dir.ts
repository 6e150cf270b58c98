import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../core/errors.ts';
import type { Measurement } from './reading.ts';

/**
 * A file-name glob as a RegExp: `*` any run of characters, `?` one, the rest literal. Like the
 * shell, a wildcard never matches a leading dot: tools write a backup in progress as a hidden file
 * (`rsync`'s `.name.XXXXXX`) and rename it when done, and a half-written dump is no backup.
 */
export function globMatcher(pattern: string): (name: string) => boolean {
  const body = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  const re = new RegExp(`^${body}$`, 's');
  const dotExplicit = pattern.startsWith('.');
  return (name) => (dotExplicit || !name.startsWith('.')) && re.test(name);
}

/**
 * The newest regular file in `dir` whose name matches `pattern` (this directory only). Values:
 * `age_seconds` (of its mtime, whole seconds), `size_bytes`, `files` (how many match). Facts:
 * `file`, `dir`, `pattern`. No match, or a directory that cannot be read, throws with the reason.
 */
export async function measureBackupDir(dir: string, pattern: string, now: number): Promise<Measurement> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw unreadable(dir, err);
  }
  const matches = globMatcher(pattern);
  let newest: { name: string; mtimeMs: number; size: number } | null = null;
  let files = 0;
  for (const name of names.filter(matches)) {
    const found = await statFile(dir, name);
    if (!found) continue;
    files += 1;
    if (!newest || found.mtimeMs > newest.mtimeMs) newest = { name, ...found };
  }
  if (!newest) throw new AppError('not_found', `no backup matching ${pattern} in ${dir}`);
  return {
    values: { age_seconds: Math.max(0, Math.floor((now - newest.mtimeMs) / 1000)), size_bytes: newest.size, files },
    facts: { file: newest.name, dir, pattern },
  };
}

/** A regular file's mtime and size; null for anything else, or a file rotated away since the listing. */
async function statFile(dir: string, name: string): Promise<{ mtimeMs: number; size: number } | null> {
  try {
    const s = await stat(join(dir, name));
    return s.isFile() ? { mtimeMs: s.mtimeMs, size: s.size } : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw unreadable(dir, err);
  }
}

const WORDS: Record<string, string> = {
  ENOENT: 'it does not exist',
  ENOTDIR: 'it is not a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'too many symbolic links',
};

function unreadable(dir: string, err: unknown): AppError {
  const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
  const words = Object.hasOwn(WORDS, code) ? `${WORDS[code]} (${code})` : code;
  return new AppError('dependency_unavailable', `cannot read backup directory ${dir}: ${words}`, undefined, { cause: err });
}
