import { describe, expect, it } from 'vitest';
import { readMigrations } from '../../../src/db/migrate.ts';
import { markStatements } from '../../../src/db/mark-statements.ts';

const M = '/* m */';

describe('markStatements()', () => {
  it('marks every statement after its first word, comments above it kept in place', () => {
    expect(markStatements('-- why\nCREATE TABLE t (id int);\n/* note */ CREATE INDEX i ON t (id);\n', M)).toBe(
      `-- why\nCREATE ${M} TABLE t (id int);\n/* note */ CREATE ${M} INDEX i ON t (id);\n`,
    );
  });

  it('inserts nothing inside strings, quoted identifiers, dollar-quoted bodies or comments', () => {
    const sql = [
      "INSERT INTO t VALUES ('a; DROP x', E'it\\'s; y', 'it''s; z');",
      'SELECT "odd; name" FROM t;',
      'CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION \'no\'; END $$;',
      'DO $body$ BEGIN PERFORM 1; END $body$;',
      '/* outer /* inner; */ still; */ SELECT $1;',
    ].join('\n');
    const marked = markStatements(sql, M);
    expect(marked.replaceAll(` ${M}`, '')).toBe(sql);
    expect(marked.split(M)).toHaveLength(6);
    expect(marked).toContain(`$$ BEGIN RAISE EXCEPTION 'no'; END $$`);
    expect(marked).toContain(`$body$ BEGIN PERFORM 1; END $body$`);
    expect(marked).toContain(`SELECT ${M} $1;`);
  });

  it('leaves a statement that starts with something else than a word, and empty statements, alone', () => {
    expect(markStatements('(SELECT 1) UNION (SELECT 2);;  ', M)).toBe('(SELECT 1) UNION (SELECT 2);;  ');
  });

  it('marks every statement of the shipped migrations and changes nothing else', () => {
    for (const m of readMigrations()) {
      const marked = markStatements(m.sql, M);
      expect(marked.replaceAll(` ${M}`, '')).toBe(m.sql);
      // One marker per statement: as many as the file has statement-ending semicolons.
      const statements = m.sql.replace(/--[^\n]*/g, '').replace(/\$\$[\s\S]*?\$\$/g, '').split(';').filter((s) => s.trim() !== '').length;
      expect(marked.split(M).length - 1, `${m.version}_${m.name}`).toBe(statements);
    }
  });
});
