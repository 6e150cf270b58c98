import { describe, expect, it } from 'vitest';
import { commandLine, MASK, maskArgs, MAX_ARG_CHARS, MAX_LINE_CHARS, parseSlowlog, shownArg } from '../../../src/probes/redis-slowlog.ts';

/**
 * The slow log shows what clients sent, so anything that may be a credential is masked before a
 * person (or a Slack channel) sees it, and nothing is shown at length. Entries here are shaped as
 * ioredis returns SLOWLOG GET: [id, unix s, µs, argv, client address, client name].
 */
const entry = (argv: string[], micros = 42_000, id = 7): unknown[] => [id, 1_796_578_134, micros, argv, '10.0.0.5:51234', 'worker-1'];

describe('parseSlowlog', () => {
  it('reads each entry: id, time, duration µs → ms, arguments, client', () => {
    expect(parseSlowlog([entry(['GET', 'user:1'], 41_063)])).toEqual({
      entries: [{ id: 7, unixSeconds: 1_796_578_134, durationMs: 41.1, args: ['GET', 'user:1'], client: '10.0.0.5:51234', clientName: 'worker-1' }],
      unreadable: 0,
    });
  });

  it('reads the four-field entries of Redis before 4.0, and counts entries of another shape instead of guessing', () => {
    const old = [3, 1_500_000_000, 15_000, ['KEYS', '*']];
    const { entries, unreadable } = parseSlowlog([old, ['x'], 'nonsense', entry(['PING'])]);
    expect(entries.map((e) => [e.id, e.args, e.client])).toEqual([
      [3, ['KEYS', '*'], ''],
      [7, ['PING'], '10.0.0.5:51234'],
    ]);
    expect(unreadable).toBe(2);
    expect(parseSlowlog('OK')).toEqual({ entries: [], unreadable: 1 });
  });

  it('masks and shortens as it parses: what it returns is safe to show', () => {
    const [parsed] = parseSlowlog([entry(['AUTH', 'hunter2']), entry(['SET', 'k', 'v'.repeat(500)])]).entries;
    expect(parsed?.args).toEqual(['AUTH', MASK]);
    expect(parseSlowlog([entry(['SET', 'k', 'v'.repeat(500)])]).entries[0]?.args[2]).toHaveLength(MAX_ARG_CHARS);
  });
});

describe('maskArgs', () => {
  it('masks AUTH’s password, keeping a user name', () => {
    expect(maskArgs(['AUTH', 'hunter2'])).toEqual(['AUTH', MASK]);
    expect(maskArgs(['auth', 'alice', 'hunter2'])).toEqual(['auth', 'alice', MASK]);
  });

  it('masks the value of a CONFIG SET key naming a password, and everything after it', () => {
    expect(maskArgs(['CONFIG', 'SET', 'requirepass', 's3cret'])).toEqual(['CONFIG', 'SET', 'requirepass', MASK]);
    expect(maskArgs(['config', 'set', 'masterauth', 's3cret'])).toEqual(['config', 'set', 'masterauth', MASK]);
    expect(maskArgs(['CONFIG', 'SET', 'maxmemory', '1gb', 'tls-key-file-pass', 'pw', 'appendonly', 'yes'])).toEqual([
      'CONFIG', 'SET', 'maxmemory', '1gb', 'tls-key-file-pass', MASK, MASK, MASK,
    ]);
    // A value is never mistaken for a key: only the even positions name settings.
    expect(maskArgs(['CONFIG', 'SET', 'notify-keyspace-events', 'password'])).toEqual(['CONFIG', 'SET', 'notify-keyspace-events', 'password']);
    expect(maskArgs(['CONFIG', 'GET', 'requirepass'])).toEqual(['CONFIG', 'GET', 'requirepass']);
  });

  it('masks HELLO AUTH, MIGRATE AUTH/AUTH2, SENTINEL auth-pass and ACL SETUSER passwords', () => {
    expect(maskArgs(['HELLO', '3', 'AUTH', 'default', 'pw', 'SETNAME', 'app'])).toEqual(['HELLO', '3', 'AUTH', 'default', MASK, 'SETNAME', 'app']);
    expect(maskArgs(['MIGRATE', 'h', '6379', '', '0', '5000', 'AUTH', 'pw', 'KEYS', 'AUTH', 'k2'])).toEqual(['MIGRATE', 'h', '6379', '', '0', '5000', 'AUTH', MASK, 'KEYS', 'AUTH', 'k2']);
    expect(maskArgs(['MIGRATE', 'h', '6379', 'k', '0', '5000', 'AUTH2', 'bob', 'pw'])).toEqual(['MIGRATE', 'h', '6379', 'k', '0', '5000', 'AUTH2', 'bob', MASK]);
    expect(maskArgs(['SENTINEL', 'SET', 'mymaster', 'auth-pass', 'pw'])).toEqual(['SENTINEL', 'SET', 'mymaster', 'auth-pass', MASK]);
    expect(maskArgs(['ACL', 'SETUSER', 'bob', 'on', '>pw1', '<pw0', '#5e88', 'resetkeys', '~jobs:*'])).toEqual([
      'ACL', 'SETUSER', 'bob', 'on', `>${MASK}`, `<${MASK}`, `#${MASK}`, 'resetkeys', '~jobs:*',
    ]);
  });

  it('masks URL passwords and Slack tokens inside any argument', () => {
    expect(maskArgs(['SET', 'cfg', 'redis://app:pw@cache:6379/0', 'xoxb-placeholder-token'])).toEqual(['SET', 'cfg', 'redis://app:***@cache:6379/0', 'xoxb-***']);
  });

  it('leaves ordinary commands as they are', () => {
    expect(maskArgs(['EVAL', 'return 1', '0'])).toEqual(['EVAL', 'return 1', '0']);
    expect(maskArgs(['SET', 'password', 'x'])).toEqual(['SET', 'password', 'x']);
  });
});

describe('showing arguments', () => {
  it('cuts an argument at MAX_ARG_CHARS, never splitting a character, and escapes control bytes', () => {
    expect(shownArg('a'.repeat(MAX_ARG_CHARS))).toBe('a'.repeat(MAX_ARG_CHARS));
    expect(shownArg('a'.repeat(MAX_ARG_CHARS + 1))).toBe(`${'a'.repeat(MAX_ARG_CHARS - 1)}…`);
    expect(Array.from(shownArg('😀'.repeat(150)))).toHaveLength(MAX_ARG_CHARS);
    expect(shownArg('a\nb\u0000')).toBe('a\\x0ab\\x00');
  });

  it('joins a command line, quoting empty or spaced arguments, at most MAX_LINE_CHARS', () => {
    expect(commandLine(['SET', 'a key', ''])).toBe('SET "a key" ""');
    expect(commandLine(Array.from({ length: 50 }, () => 'abcdefghij'))).toHaveLength(MAX_LINE_CHARS);
  });
});
