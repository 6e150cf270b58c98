import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface Dotenv {
  path: string;
  values: Record<string, string>;
  /** Lines that are not `KEY=VALUE`, by number (never their text: it may hold a secret). */
  problems: string[];
}

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;

/**
 * The `.env` format people write by hand: `KEY=VALUE` per line, optional `export `, `#` comments
 * (whole lines, or after an unquoted value following a space), values in single quotes (taken as
 * they are) or double quotes (`\n`, `\"`, `\\` escapes). No variable expansion, no multi-line values.
 */
export function parseDotenv(text: string, path = '.env'): Dotenv {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (/^\s*(#|$)/.test(raw)) return;
    const match = LINE.exec(raw);
    const value = match?.[2] === undefined ? null : unquote(match[2]);
    if (!match?.[1] || value === null) {
      problems.push(`${path} line ${i + 1}: expected KEY=VALUE`);
      return;
    }
    values[match[1]] = value;
  });
  return { path, values, problems };
}

function unquote(value: string): string | null {
  const quote = value[0];
  if (quote === "'" || quote === '"') {
    const closing = quote === '"' ? closingDoubleQuote(value) : value.indexOf("'", 1);
    if (closing < 0) return null;
    const rest = value.slice(closing + 1).trim();
    if (rest && !rest.startsWith('#')) return null;
    const inner = value.slice(1, closing);
    return quote === "'" ? inner : inner.replace(/\\([n"\\])/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  // An unquoted value ends where ` #` starts a comment; a `#` inside (a URL fragment) stays.
  return value.replace(/\s+#.*$/, '');
}

function closingDoubleQuote(value: string): number {
  for (let i = 1; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === '"') return i;
  }
  return -1;
}

/** `.env` in `cwd`, parsed; null when there is none. */
export function readDotenv(cwd: string): Dotenv | null {
  const path = resolve(cwd, '.env');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { path, values: {}, problems: [`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`] };
  }
  return parseDotenv(text, path);
}

/**
 * The environment Vigil runs with: `.env` underneath, the real environment on top. A variable set
 * in the environment wins even when empty, as with dotenv and Node's own `--env-file`.
 */
export function withDotenv(env: Record<string, string | undefined>, dotenv: Dotenv | null): Record<string, string | undefined> {
  return dotenv ? { ...dotenv.values, ...env } : env;
}
