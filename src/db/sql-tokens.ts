// Pieces of PostgreSQL's lexer that masking (/slowqueries) and marking (migrations) both need.
const TAG_START = /[\p{L}_]/u;
const TAG_CHAR = /[\p{L}\p{N}_]/u;

/** `$$` or `$tag$` starting at `at`, or null for `$1` placeholders and lone dollars. */
export function dollarTag(sql: string, at: number): string | null {
  let i = at + 1;
  if (sql[i] === '$') return '$$';
  if (!TAG_START.test(sql[i] ?? '')) return null;
  while (i < sql.length && TAG_CHAR.test(sql[i] ?? '')) i++;
  return sql[i] === '$' ? sql.slice(at, i + 1) : null;
}

/** Block comments nest in Postgres: `/* a /* b *\/ still comment *\/`. */
export function blockCommentEnd(sql: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return sql.length;
}
