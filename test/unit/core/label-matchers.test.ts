import { describe, expect, it } from 'vitest';
import { formatMatchers, MAX_MATCHERS, parseMatchers } from '../../../src/core/label-matchers.ts';

/** The message of a refused parse. */
function refusal(text: string): string {
  const r = parseMatchers(text);
  if (r.ok) throw new Error(`expected a refusal, got ${JSON.stringify(r.labels)}`);
  return r.message;
}

const HOSTILE = ['say "hi"', 'C:\\temp\\', 'two\nlines', '\\n is not a newline', '\\"', '"', '\\', '', 'a, b="c"', 'x=~".*"', 'ünï €', '\n\n'];

describe('formatMatchers', () => {
  it('writes name="value" pairs in the given order, joined by a comma and a space', () => {
    expect(formatMatchers({ service: 'api', env: 'prod' })).toBe('service="api", env="prod"');
    expect(formatMatchers({})).toBe('');
  });

  it('escapes backslash, double quote and newline as Alertmanager prints them, and nothing else', () => {
    expect(formatMatchers({ a: 'say "hi"' })).toBe('a="say \\"hi\\""');
    expect(formatMatchers({ a: 'C:\\temp' })).toBe('a="C:\\\\temp"');
    expect(formatMatchers({ a: 'one\ntwo' })).toBe('a="one\\ntwo"');
    expect(formatMatchers({ a: "it's <b> & {x}" })).toBe('a="it\'s <b> & {x}"');
  });
});

describe('parseMatchers', () => {
  it('reads pairs in order, with spaces around names, = and commas', () => {
    expect(parseMatchers('env="prod", service="api"')).toEqual({ ok: true, labels: [['env', 'prod'], ['service', 'api']] });
    expect(parseMatchers('  env = "prod" ,service="api"  ')).toEqual({ ok: true, labels: [['env', 'prod'], ['service', 'api']] });
    expect(parseMatchers('_x1="", y="a=b, c"')).toEqual({ ok: true, labels: [['_x1', ''], ['y', 'a=b, c']] });
    expect(parseMatchers('')).toEqual({ ok: true, labels: [] });
  });

  it.each(HOSTILE.map((v) => [v]))('round-trips the value %j', (value) => {
    const labels = { first: value, second: `${value}${value}`, third: 'plain' };
    expect(parseMatchers(formatMatchers(labels))).toEqual({ ok: true, labels: Object.entries(labels) });
  });

  it('round-trips the most matchers it takes', () => {
    const labels = Object.fromEntries(Array.from({ length: MAX_MATCHERS }, (_, i) => [`l${i}`, `"${i}"\\\n`]));
    expect(parseMatchers(formatMatchers(labels))).toEqual({ ok: true, labels: Object.entries(labels) });
  });

  it.each([
    ['env=prod', 'the value of env must be in double quotes'],
    ["env='prod'", 'the value of env must be in double quotes'],
    ['env!="prod"', 'env: only equality (=) matchers are allowed'],
    ['env=~"pr.*"', 'env: only equality (=) matchers are allowed'],
    ['env!~"pr.*"', 'env: only equality (=) matchers are allowed'],
    ['env "prod"', 'expected = after env'],
    ['env="prod" service="api"', 'expected a comma after env="…" at character 12'],
    ['env="prod";service="api"', 'expected a comma after env="…" at character 11'],
    ['env="prod",', 'nothing after the last comma'],
    [',env="prod"', 'expected a label name at character 1'],
    ['1env="prod"', 'expected a label name at character 1'],
    ['en-v="prod"', 'expected = after en'],
    ['{env="prod"}', 'expected a label name at character 1'],
    ['env="prod', 'the value of env has no closing quote'],
    ['env="pr\\"od', 'the value of env has no closing quote'],
    ['env="a\\tb"', 'the value of env has an unknown escape at character 7; only \\\\, \\" and \\n are escapes'],
    ['env="a\nb"', 'the value of env has a line break; write it as \\n'],
  ])('refuses %j: %s', (text, why) => {
    expect(refusal(text)).toBe(`${why}; write name="value" pairs separated by commas`);
  });

  it('refuses alertname, which is a parameter of its own', () => {
    expect(refusal('env="prod", alertname="ApiDown"')).toBe('alertname is a parameter of its own; leave it out of the matchers');
  });

  it('refuses a label matched twice', () => {
    expect(refusal('env="prod", service="api", env="staging"')).toBe('env appears twice; each label may be matched once');
  });

  it(`refuses more than ${MAX_MATCHERS} matchers`, () => {
    const labels = Object.fromEntries(Array.from({ length: MAX_MATCHERS + 1 }, (_, i) => [`l${i}`, 'v']));
    expect(refusal(formatMatchers(labels))).toBe(`at most ${MAX_MATCHERS} matchers (got ${MAX_MATCHERS + 1})`);
  });
});
