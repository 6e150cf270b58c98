import { blockCommentEnd, dollarTag } from './sql-tokens.ts';

/**
 * Puts `marker` (a block comment) right after the first word of every statement of a SQL script:
 * `CREATE TABLE t (…); CREATE INDEX …` → `CREATE /* m *\/ TABLE t (…); CREATE /* m *\/ INDEX …`.
 *
 * Why: pg_stat_statements records each statement of a script with a text of its own, so a marker
 * must be inside every statement to tell them apart later (see isVigilStatement); and it must come
 * after the first word, because PostgreSQL 18 records a statement from its first keyword on.
 *
 * Only a comment is added, and only between two tokens, so the script means exactly what it did.
 * Quotes, dollar-quoted bodies, quoted identifiers and comments are skipped whole, so nothing is
 * inserted inside them. Where this reads a statement boundary that is not one (the `;` inside a
 * `BEGIN ATOMIC … END` body), the comment lands between two tokens of that body: still harmless.
 * A statement that starts with something other than a word (`(SELECT …)`) is left unmarked.
 * Plain `'…'` strings are read with standard_conforming_strings on (the default since 9.1).
 */
export function markStatements(sql: string, marker: string): string {
  const at: number[] = [];
  let expectWord = true;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] ?? '';
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && next === '-') {
      const eol = sql.indexOf('\n', i);
      i = eol === -1 ? sql.length : eol + 1;
    } else if (c === '/' && next === '*') {
      i = blockCommentEnd(sql, i);
    } else if (expectWord) {
      expectWord = false;
      const word = /^[A-Za-z_]\w*/.exec(sql.slice(i, i + 64))?.[0];
      if (word) {
        i += word.length;
        at.push(i);
      }
    } else if (c === "'") {
      i = quotedEnd(sql, i + 1, "'", isEscapeString(sql, i));
    } else if (c === '"') {
      i = quotedEnd(sql, i + 1, '"', false);
    } else if (c === '$' && !(i > 0 && IDENT_CHAR.test(sql[i - 1] ?? ''))) {
      const tag = dollarTag(sql, i);
      if (tag === null) i++;
      else {
        const close = sql.indexOf(tag, i + tag.length);
        i = close === -1 ? sql.length : close + tag.length;
      }
    } else {
      if (c === ';') expectWord = true;
      i++;
    }
  }
  let out = '';
  let from = 0;
  for (const pos of at) {
    out += `${sql.slice(from, pos)} ${marker}`;
    from = pos;
  }
  return out + sql.slice(from);
}

const IDENT_CHAR = /[\p{L}\p{N}_$]/u;

/** `E'…'` with nothing identifier-like before the E: backslash escapes apply. */
function isEscapeString(sql: string, quoteAt: number): boolean {
  const prefix = sql[quoteAt - 1];
  return (prefix === 'E' || prefix === 'e') && !(quoteAt >= 2 && IDENT_CHAR.test(sql[quoteAt - 2] ?? ''));
}

/** The index after the closing quote (a doubled quote is content), or the end of the text. */
function quotedEnd(sql: string, from: number, quote: string, backslashEscapes: boolean): number {
  let i = from;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') i += 2;
    else if (c === quote && sql[i + 1] === quote) i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  return sql.length;
}
