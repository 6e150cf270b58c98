import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { argSchemas, parseCommandArgs, tokenize } from '../../../src/core/args.ts';
import { AppError } from '../../../src/core/errors.ts';

describe('tokenize', () => {
  it('splits on whitespace and keeps quoted groups', () => {
    expect(tokenize(`emails  --limit 5 "two words" 'single'`)).toEqual(['emails', '--limit', '5', 'two words', 'single']);
  });
  it('reads the em/en dash that Slack clients autocorrect `--` into as `--`', () => {
    expect(tokenize('—limit 3 –by mean')).toEqual(['--limit', '3', '--by', 'mean']);
  });
  it('returns nothing for blank text', () => {
    expect(tokenize('   ')).toEqual([]);
  });
});

describe('parseCommandArgs', () => {
  const schema = z.object({
    limit: argSchemas.positiveInt(50).default(10),
    verbose: z.boolean().default(false),
    positionals: z.array(z.string()).max(1, 'takes at most one name'),
  });
  const options = { limit: { type: 'string' as const }, verbose: { type: 'boolean' as const, short: 'v' } };

  it('parses options, short flags, = syntax and defaults', () => {
    expect(parseCommandArgs(['--limit=7', '-v', 'q'], options, schema)).toEqual({ limit: 7, verbose: true, positionals: ['q'] });
    expect(parseCommandArgs([], options, schema)).toEqual({ limit: 10, verbose: false, positionals: [] });
  });

  it.each([
    [['--nope'], /Unknown option '--nope'/],
    [['--limit', 'abc'], /^--limit: must be a number$/],
    [['--limit', '0'], /^--limit: must be at least 1$/],
    [['--limit', '2.5'], /^--limit: must be a whole number$/],
    [['a', 'b'], /arguments: takes at most one name/],
    [['--limit'], /requires an argument|argument missing/i],
  ])('turns %j into a bad_args error saying what was wrong', (words, message) => {
    let caught: unknown;
    try {
      parseCommandArgs(words, options, schema);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe('bad_args');
    expect((caught as AppError).userMessage).toMatch(message);
  });
});
