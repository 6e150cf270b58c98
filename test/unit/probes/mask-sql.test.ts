import { describe, expect, it } from 'vitest';
import { maskSqlLiterals } from '../../../src/probes/mask-sql.ts';

describe('maskSqlLiterals', () => {
  it('masks the password of ALTER ROLE and CREATE USER MAPPING', () => {
    expect(maskSqlLiterals("ALTER ROLE app PASSWORD 'pgS3cretXYZ'")).toBe("ALTER ROLE app PASSWORD '***'");
    expect(maskSqlLiterals("CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'u', password 'hunter2')")).toBe(
      "CREATE USER MAPPING FOR app SERVER s OPTIONS (user '***', password '***')",
    );
  });

  it('keeps doubled quotes inside a literal inside the mask', () => {
    expect(maskSqlLiterals("SELECT 'it''s a ''secret''', x")).toBe("SELECT '***', x");
    expect(maskSqlLiterals("SELECT '', 'a'")).toBe("SELECT '', '***'");
  });

  it('masks E strings with backslash escapes, a quote escaped by a backslash included', () => {
    expect(maskSqlLiterals("SELECT E'pa\\'ss', 1")).toBe("SELECT E'***', 1");
    expect(maskSqlLiterals("SELECT e'a\\\\', 'b'")).toBe("SELECT e'***', '***'");
    expect(maskSqlLiterals("SELECT pgp_sym_encrypt(data, E'k\\'ey') FROM t")).toBe("SELECT pgp_sym_encrypt(data, E'***') FROM t");
  });

  it('masks under both readings of a backslash in a plain string', () => {
    // standard_conforming_strings on: 'C:\' ends at the second quote and 'secret' is a literal.
    // Off: \' escapes the quote and the literal runs on. Either way `secret` must not show.
    const sql = "SELECT 'C:\\', 'secret'";
    const out = maskSqlLiterals(sql);
    expect(out).not.toContain('secret');
    expect(out.startsWith('SELECT ')).toBe(true);
    expect(maskSqlLiterals("SELECT 'a\\' || 'pw' AS x")).not.toContain('pw');
    // Off: 'it\'s hunter2' is one literal; read as standard, hunter2 would be outside any.
    expect(maskSqlLiterals("SELECT 'it\\'s hunter2', 1")).not.toContain('hunter2');
  });

  it('masks dollar-quoted bodies, tagged or not, keeping the delimiters', () => {
    expect(maskSqlLiterals("DO $$ BEGIN PERFORM set_config('app.key', 'k', false); END $$")).toBe('DO $$***$$');
    expect(maskSqlLiterals('SELECT $q$it is $$ not the end$q$, 2')).toBe('SELECT $q$***$q$, 2');
    expect(maskSqlLiterals("CREATE FUNCTION f() RETURNS text AS $body$ SELECT 'x' $body$ LANGUAGE sql")).toBe(
      'CREATE FUNCTION f() RETURNS text AS $body$***$body$ LANGUAGE sql',
    );
  });

  it('leaves $1 placeholders, numbers and identifiers containing $ alone', () => {
    const sql = 'SELECT a$b, $1, $2::int + 3.5 FROM t WHERE id = $10';
    expect(maskSqlLiterals(sql)).toBe(sql);
    expect(maskSqlLiterals("SELECT col$x$ FROM t WHERE v = 'z'")).toBe("SELECT col$x$ FROM t WHERE v = '***'");
  });

  it('leaves identifiers in double quotes alone, quotes inside them included', () => {
    const sql = 'SELECT "it\'s" , "a""b" FROM "Secret Table"';
    expect(maskSqlLiterals(sql)).toBe(sql);
    expect(maskSqlLiterals('SELECT "x" || \'y\'')).toBe('SELECT "x" || \'***\'');
  });

  it('keeps comments and does not start a literal at a quote inside one', () => {
    expect(maskSqlLiterals("/* vigil: don't */ SELECT 1 -- it's fine\nWHERE x = 'p'")).toBe(
      "/* vigil: don't */ SELECT 1 -- it's fine\nWHERE x = '***'",
    );
    expect(maskSqlLiterals("/* outer /* inner ' */ still ' comment */ SELECT 's'")).toBe(
      "/* outer /* inner ' */ still ' comment */ SELECT '***'",
    );
  });

  it('does not treat a comment marker inside a literal as a comment', () => {
    expect(maskSqlLiterals("SELECT '--x', 'y'")).toBe("SELECT '***', '***'");
  });

  it('masks an unterminated literal or dollar body to the end (a text cut short)', () => {
    expect(maskSqlLiterals("ALTER ROLE a PASSWORD 'pgS3cr")).toBe("ALTER ROLE a PASSWORD '***");
    expect(maskSqlLiterals('DO $f$ secret')).toBe('DO $f$***');
  });

  it('masks prefixed literals (U&, B, X, N) and adjacent continuations', () => {
    expect(maskSqlLiterals("SELECT U&'d\\0061t', B'101', X'ff', N'n'")).toBe("SELECT U&'***', B'***', X'***', N'***'");
    expect(maskSqlLiterals("SELECT 'a'\n'b'")).toBe("SELECT '***'\n'***'");
  });

  it('returns a text without literals unchanged', () => {
    const sql = 'SELECT count(*) FROM pg_stat_activity WHERE state <> $1';
    expect(maskSqlLiterals(sql)).toBe(sql);
    expect(maskSqlLiterals('')).toBe('');
  });
});
