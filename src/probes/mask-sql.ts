import { blockCommentEnd, dollarTag } from '../db/sql-tokens.ts';
/**
 * Masks every string literal in a SQL text before Vigil shows it: `'…'`, `E'…'`, `U&'…'`, `B'…'`
 * and dollar-quoted `$$…$$` / `$tag$…$tag$` bodies become `***`. Postgres keeps literals in the
 * texts of utility statements (`ALTER ROLE x PASSWORD '…'`, `CREATE USER MAPPING … OPTIONS
 * (password '…')`, a DO block) and in whatever pg_stat_activity shows, so a password typed by a
 * DBA would otherwise reach a Slack channel. All literals, not a list of dangerous statements: a
 * list fails open on the statement nobody thought of (a function taking a key, an extension's own
 * syntax), while pg_stat_statements has already replaced the constants of ordinary statements by
 * `$1`, so masking costs the reader almost nothing.
 *
 * Identifiers in double quotes, comments, numbers and `$1` placeholders are kept. Whether a
 * backslash escapes a quote in a plain `'…'` depends on the session's standard_conforming_strings,
 * which the text does not say: the text is scanned both ways and every character that is inside a
 * literal under either reading is masked, so neither reading can leak. A literal that does not end
 * (a text cut at track_activity_query_size) is masked to the end.
 */

type Range = [start: number, end: number];

const IDENT_CHAR = /[\p{L}\p{N}_$]/u;
const MASK = '***';

export function maskSqlLiterals(sql: string): string {
  const masked = new Uint8Array(sql.length);
  for (const backslashInPlain of [false, true]) {
    for (const [start, end] of literalContents(sql, backslashInPlain)) masked.fill(1, start, end);
  }
  let out = '';
  let i = 0;
  while (i < sql.length) {
    if (masked[i] === 1) {
      while (i < sql.length && masked[i] === 1) i++;
      out += MASK;
    } else {
      out += sql[i];
      i++;
    }
  }
  return out;
}

/** The [start, end) ranges between the delimiters of each literal, reading the text one way. */
function literalContents(sql: string, backslashInPlain: boolean): Range[] {
  const ranges: Range[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const eol = sql.indexOf('\n', i);
      i = eol === -1 ? sql.length : eol + 1;
    } else if (c === '/' && next === '*') {
      i = blockCommentEnd(sql, i);
    } else if (c === '"') {
      // A quoted identifier: "" inside is a doubled quote, nothing else is special.
      i = quotedEnd(sql, i + 1, '"', false).next;
    } else if (c === "'") {
      const escapes = backslashInPlain || isEscapeStringPrefix(sql, i);
      const { contentEnd, next: after } = quotedEnd(sql, i + 1, "'", escapes);
      ranges.push([i + 1, contentEnd]);
      i = after;
    } else if (c === '$' && !(i > 0 && IDENT_CHAR.test(sql[i - 1] ?? ''))) {
      const tag = dollarTag(sql, i);
      if (tag === null) {
        i++;
        continue;
      }
      const bodyStart = i + tag.length;
      const close = sql.indexOf(tag, bodyStart);
      const bodyEnd = close === -1 ? sql.length : close;
      ranges.push([bodyStart, bodyEnd]);
      i = close === -1 ? sql.length : close + tag.length;
    } else {
      i++;
    }
  }
  return ranges;
}

/** `E'…'` (or `e'…'`) with nothing identifier-like before the E: backslash escapes apply. */
function isEscapeStringPrefix(sql: string, quoteAt: number): boolean {
  const prefix = sql[quoteAt - 1];
  if (prefix !== 'E' && prefix !== 'e') return false;
  return !(quoteAt >= 2 && IDENT_CHAR.test(sql[quoteAt - 2] ?? ''));
}

/**
 * Where a quoted run that started before `from` ends: the index of its closing quote (the end of
 * the text if it never closes) and the index after it. A doubled quote is part of the content.
 */
function quotedEnd(sql: string, from: number, quote: string, backslashEscapes: boolean): { contentEnd: number; next: number } {
  let i = from;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return { contentEnd: i, next: i + 1 };
    } else {
      i++;
    }
  }
  return { contentEnd: sql.length, next: sql.length };
}
