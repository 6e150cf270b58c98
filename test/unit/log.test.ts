import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createLogger, logFormatFor, readableLine } from '../../src/log.ts';
import { REPO_ROOT } from '../support/run-process.ts';

/** A readable-format logger whose lines land in an array (what a terminal would be sent). */
function capture(opts: { bareInfo?: boolean; fd?: 1 | 2 } = {}) {
  const written: { fd: number; text: string }[] = [];
  const log = createLogger('debug', { ...opts, isTTY: true, writer: (fd, text) => void written.push({ fd, text }) });
  return { log, written, text: () => written.map((w) => w.text).join('') };
}

const CLOCK = /^\d\d:\d\d:\d\d /;

describe('log format', () => {
  it('is decided per destination: readable on a terminal, JSON lines anywhere else', () => {
    expect(logFormatFor(true)).toBe('readable');
    expect(logFormatFor(false)).toBe('json');
  });

  it('readable: `HH:MM:SS LEVEL message key=value`, one line, written to its own fd', () => {
    const { log, written } = capture();
    log.warn({ queue: 'emails', waiting: 12, note: 'two words', nested: { a: 1 } }, 'queue backed up');
    expect(written).toHaveLength(1);
    expect(written[0]?.fd).toBe(2);
    const line = written[0]?.text ?? '';
    expect(line).toMatch(CLOCK);
    expect(line.slice(9)).toBe('WARN  queue backed up queue=emails waiting=12 note="two words" nested={"a":1}\n');
  });

  it('readable: secrets are redacted before formatting, as in JSON', () => {
    const { log, text } = capture();
    const token = ['xoxb', 'unit', 'a1b2c3d4e5f6a7b8'].join('-');
    log.info({ token, password: 'pa55word', headers: { authorization: `Bearer ${token}` }, db: { password: 'pa55word' } }, 'connecting');
    expect(text()).toContain('token=[redacted] password=[redacted] headers={"authorization":"[redacted]"} db={"password":"[redacted]"}');
    expect(text()).not.toMatch(/pa55word|a1b2c3d4/);
  });

  it('readable start-up lines: an info line without fields is its message alone; anything else keeps time and level', () => {
    const { log, written } = capture({ bareInfo: true, fd: 1 });
    log.info('Postgres: DATABASE_URL postgres://db/x');
    log.warn('Redis: slow');
    expect(written[0]).toEqual({ fd: 1, text: 'Postgres: DATABASE_URL postgres://db/x\n' });
    expect(written[1]?.text).toMatch(/^\d\d:\d\d:\d\d WARN  Redis: slow\n$/);
  });

  it('readable: an error’s stack goes on indented lines below its line', () => {
    const line = readableLine(JSON.stringify({ level: 50, time: Date.now(), msg: 'failed', err: { message: 'boom', stack: 'Error: boom\n    at x (y.ts:1:1)' } }));
    expect(line.split('\n')).toEqual([expect.stringMatching(/ ERROR failed err=\{"message":"boom"\}$/), '    Error: boom', '        at x (y.ts:1:1)']);
  });

  it('JSON on a pipe, on stdout and stderr alike, with the same redaction', () => {
    const token = ['xoxb', 'unit', 'a1b2c3d4e5f6a7b8'].join('-');
    // A real process, so the fds are real pipes and the format is decided from them.
    const script = `
      import { createLogger } from './src/log.ts';
      createLogger('info', { fd: 1 }).info({ token: process.argv[1] }, 'to stdout');
      createLogger('info').warn({ password: 'pa55word', user: 'u' }, 'to stderr');`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, token], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(JSON.parse(run.stdout)).toEqual({ level: 30, time: expect.any(Number), msg: 'to stdout', token: '[redacted]' });
    expect(JSON.parse(run.stderr)).toEqual({ level: 40, time: expect.any(Number), msg: 'to stderr', password: '[redacted]', user: 'u' });
  });
});
