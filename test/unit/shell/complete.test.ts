import { describe, expect, it } from 'vitest';
import { createCompleter, type CompletableCommand } from '../../../src/shell/complete.ts';

const commands: CompletableCommand[] = [
  { name: 'health', usage: '[--verbose]', options: { verbose: { type: 'boolean' } } },
  { name: 'help-desk', usage: '', options: {} },
  { name: 'queue', usage: '[name]', options: {} },
  { name: 'slowqueries', usage: '[--by total|mean|calls] [--limit N] [--min-ms X]', options: { by: { type: 'string' }, limit: { type: 'string' }, 'min-ms': { type: 'string' } } },
];
const complete = createCompleter(commands);

describe('shell completion', () => {
  it('completes a command name, with or without the slash; one match gets a trailing space', () => {
    expect(complete('/hea')).toEqual([['/health '], '/hea']);
    expect(complete('que')).toEqual([['queue '], 'que']);
    expect(complete('/hel')).toEqual([['/help', '/help-desk'], '/hel']);
    expect(complete('/vig')).toEqual([['/vigil '], '/vig']);
    expect(complete('ex')).toEqual([['exit '], 'ex']);
    expect(complete('/zz')).toEqual([[], '/zz']);
  });

  it('completes the command after /vigil', () => {
    expect(complete('/vigil slo')).toEqual([['slowqueries '], 'slo']);
  });

  it('completes the typed command’s flags, its own and the global ones, leaving out those already given', () => {
    expect(complete('/slowqueries --')).toEqual([['--by', '--limit', '--min-ms', '--json', '--public', '--help'], '--']);
    expect(complete('/slowqueries --l')).toEqual([['--limit '], '--l']);
    expect(complete('/vigil health --v')).toEqual([['--verbose '], '--v']);
    expect(complete('/health --json --')).toEqual([['--verbose', '--public', '--help'], '--']);
    expect(complete('/health ')).toEqual([['--verbose', '--json', '--public', '--help'], '']);
  });

  it('completes a flag’s values when its usage lists them', () => {
    expect(complete('/slowqueries --by m')).toEqual([['mean '], 'm']);
    expect(complete('/slowqueries --by ')).toEqual([['total', 'mean', 'calls'], '']);
  });

  it('offers nothing for an unknown command or a free argument', () => {
    expect(complete('/nope --')).toEqual([[], '--']);
    expect(complete('/queue ema')).toEqual([[], 'ema']);
  });
});
