import { describe, expect, it } from 'vitest';
import { parseDotenv, withDotenv } from '../../../src/config/dotenv.ts';

describe('parseDotenv', () => {
  it('reads KEY=VALUE lines, skipping comments and blank lines', () => {
    const { values, problems } = parseDotenv(['# a comment', '', 'PORT=3001', '  LOG_LEVEL = debug  ', 'export HOST=0.0.0.0', 'EMPTY=', '   # indented comment'].join('\n'));
    expect(values).toEqual({ PORT: '3001', LOG_LEVEL: 'debug', HOST: '0.0.0.0', EMPTY: '' });
    expect(problems).toEqual([]);
  });

  it('takes single-quoted values as they are and unescapes double-quoted ones', () => {
    const { values } = parseDotenv([`A='x # not a comment \\n'`, 'B="line1\\nline2 \\"q\\" \\\\ # kept"', 'C="ok" # comment after quotes'].join('\n'));
    expect(values).toEqual({ A: 'x # not a comment \\n', B: 'line1\nline2 "q" \\ # kept', C: 'ok' });
  });

  it('ends an unquoted value at " #", but keeps a # inside it (a URL fragment, a password)', () => {
    const { values } = parseDotenv(['URL=http://h/p#frag', 'TOKEN=abc#def # the token', 'CRLF=yes\r'].join('\n'));
    expect(values).toEqual({ URL: 'http://h/p#frag', TOKEN: 'abc#def', CRLF: 'yes' });
  });

  it('names bad lines by number, never by their text (it may hold a secret)', () => {
    const { values, problems } = parseDotenv(['OK=1', 'not a pair sup3rsecret', 'Q="unterminated sup3rsecret', "R='a' trailing", '1BAD=x'].join('\n'), '/app/.env');
    expect(values).toEqual({ OK: '1' });
    expect(problems).toEqual(['/app/.env line 2: expected KEY=VALUE', '/app/.env line 3: expected KEY=VALUE', '/app/.env line 4: expected KEY=VALUE', '/app/.env line 5: expected KEY=VALUE']);
    expect(problems.join()).not.toContain('sup3rsecret');
  });
});

describe('withDotenv', () => {
  it('puts .env underneath: a variable of the real environment wins, even when empty', () => {
    const dotenv = parseDotenv('PORT=4000\nHOST=0.0.0.0\nLOG_LEVEL=debug');
    expect(withDotenv({ PORT: '5000', HOST: '' }, dotenv)).toEqual({ PORT: '5000', HOST: '', LOG_LEVEL: 'debug' });
    expect(withDotenv({ PORT: '5000' }, null)).toEqual({ PORT: '5000' });
  });
});
