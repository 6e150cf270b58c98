import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadConfigOrReport } from '../../../src/config/load.ts';
import { isPlaceholder } from '../../../src/config/placeholders.ts';

const ROOT = new URL('../../..', import.meta.url).pathname;
const made: string[] = [];
function dirWithEnv(text: string | null): string {
  const d = mkdtempSync(join(tmpdir(), 'vigil-envfile-'));
  made.push(d);
  if (text !== null) writeFileSync(join(d, '.env'), text);
  return d;
}
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe('.env in the working directory', () => {
  it('is read by the entry points, beneath the real environment', () => {
    const d = dirWithEnv('PORT=4000\nLOG_LEVEL=debug\nREDIS_URL=redis://cache:6379\n');
    const config = loadConfig({ PORT: '5000' }, d, { dotenv: true });
    expect(config.env.PORT).toBe(5000);
    expect(config.env.LOG_LEVEL).toBe('debug');
    expect(config.env.REDIS_URL).toBe('redis://cache:6379');
    expect(config.notices).toEqual([`Env: ${join(d, '.env')} read (3 variables; 1 also set in the environment, which wins)`]);
    // Action runners see what .env supplied too (only the names an action allow-lists).
    expect(config.processEnv.REDIS_URL).toBe('redis://cache:6379');
  });

  it('is not read unless asked (tests pass their whole env), and its absence is no error', () => {
    const d = dirWithEnv('PORT=4000\n');
    expect(loadConfig({}, d).env.PORT).toBe(3000);
    const none = loadConfig({}, dirWithEnv(null), { dotenv: true });
    expect(none.notices).toEqual([]);
  });

  it('a malformed line fails the start like any other configuration problem', () => {
    const d = dirWithEnv('PORT=4000\nthis is not a variable\n');
    expect(() => loadConfig({}, d, { dotenv: true })).toThrow(ConfigError);
    let written = '';
    expect(loadConfigOrReport((t) => (written += t), {}, d)).toBeNull();
    expect(written).toContain('.env line 2: expected KEY=VALUE');
  });

  it('one that exists but cannot be read fails the start, naming the file and why', () => {
    const d = dirWithEnv(null);
    mkdirSync(join(d, '.env'));
    let written = '';
    expect(loadConfigOrReport((t) => (written += t), {}, d)).toBeNull();
    expect(written).toBe(`Invalid configuration:\n  - ${join(d, '.env')}: cannot be read (EISDIR)\n`);
  });

  it('.env.example copied as it is starts: placeholders are unset, said in one line; shell mode, embedded defaults', () => {
    const d = dirWithEnv(null);
    copyFileSync(join(ROOT, '.env.example'), join(d, '.env'));
    const config = loadConfig({}, d, { dotenv: true });
    expect(config.slack.kind).toBe('none');
    expect(config.env.DATABASE_URL).toBeUndefined();
    expect(config.env.REDIS_URL).toBeUndefined();
    expect(config.env.SLACK_BOT_TOKEN).toBeUndefined();
    expect(config.fileSource).toMatch(/^built-in defaults/);
    expect(config.notices.filter((n) => n.includes('placeholder'))).toEqual([
      'Env: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, DATABASE_URL, REDIS_URL hold placeholders (as copied from .env.example), treated as unset',
    ]);
  });

  it('a placeholder in the real environment is unset too; a real value next to it is kept', () => {
    const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-replace', DATABASE_URL: 'postgres://vigil@127.0.0.1:5432/vigil' }, dirWithEnv(null));
    expect(config.env.SLACK_BOT_TOKEN).toBeUndefined();
    expect(config.env.DATABASE_URL).toBe('postgres://vigil@127.0.0.1:5432/vigil');
    expect(config.notices).toEqual(['Env: SLACK_BOT_TOKEN holds a placeholder (as copied from .env.example), treated as unset']);
  });
});

describe('isPlaceholder', () => {
  it('recognises the usual "put yours here" values', () => {
    for (const value of ['xoxb-your_bot_token', 'your-signing-secret', 'xoxb-replace', 'changeme', 'CHANGE_ME', 'postgres://vigil:changeme@db:5432/x', 'redis://redis.example.com:6379', '<token>', 'xapp-…', 'xoxb-...', 'placeholder', 'xxxxxxxx'])
      expect([value, isPlaceholder(value)]).toEqual([value, true]);
  });

  it('leaves real-looking tokens, secrets and URLs alone', () => {
    for (const value of [['xoxb', '1234', '5678', 'AbCdEfGhIjKlMnOp'].join('-') /* built, so no token-shaped text is in the source */, ['xapp', '1', 'A0123', '456', 'abcdef'].join('-'), '8f742231b10e8888abcd99yyyzzz85a5', 'redis://127.0.0.1:6379', 'postgres://vigil:s3cret@db.internal:5432/vigil', 'http://alertmanager:9093', 'xoxb-test'])
      expect([value, isPlaceholder(value)]).toEqual([value, false]);
  });
});
