import { describe, expect, it } from 'vitest';
import {
  explainParamsError,
  fillTemplate,
  paramHelp,
  paramsSchemaFor,
  paramsSpecSchema,
  parseDuration,
  type ParamsSpec,
} from '../../../src/actions/params.ts';
import { runnerConfigSchema, type RunnerSpec } from '../../../src/actions/runner-config.ts';
import { previewRun, redactValues } from '../../../src/actions/runners/index.ts';

const spec: ParamsSpec = paramsSpecSchema.parse({
  service: { enum: ['api', 'worker'] },
  limit: { integer: { min: 1, max: 1000 }, default: 100 },
  duration: { duration: { max: '24h', min: '1m' } },
  comment: { text: { maxLength: 50 } },
});
const schema = paramsSchemaFor(spec);
const ok = { service: 'api', duration: '30m', comment: 'deploy is stuck' };

/** The one message a refused parse gives. */
function refusal(input: unknown, s = schema): string {
  const r = s.safeParse(input);
  if (r.success) throw new Error(`expected a refusal, got ${JSON.stringify(r.data)}`);
  return explainParamsError(r.error);
}

describe('paramsSchemaFor', () => {
  it('accepts declared values, fills defaults, turns digit strings into integers', () => {
    expect(schema.parse(ok)).toEqual({ ...ok, limit: 100 });
    expect(schema.parse({ ...ok, limit: '250' })).toEqual({ ...ok, limit: 250 });
    expect(schema.parse({ ...ok, duration: '1h30m' }).duration).toBe('1h30m');
  });

  it('refuses a value outside the enum, naming the parameter and the allowed values', () => {
    expect(refusal({ ...ok, service: 'db' })).toBe('service must be one of: api, worker (got "db")');
  });

  it.each([
    ['api;id'],
    ['api; rm -rf /'],
    ['$(id)'],
    ['`id`'],
    ["api'"],
    ['"api"'],
    ['api\nid'],
    [' api'],
    ['API'],
  ])('refuses the injection attempt %j: an enum compares whole values', (value) => {
    expect(refusal({ ...ok, service: value })).toMatch(/^service must be one of: api, worker \(got ".*"\)$/);
  });

  it('shows a refused value escaped and cut short', () => {
    expect(refusal({ ...ok, service: `api\n${'x'.repeat(100)}` })).toContain(`(got "api\\n${'x'.repeat(36)}…")`);
  });

  it('refuses unknown parameters and lists what the action takes', () => {
    expect(refusal({ ...ok, force: 'yes' })).toBe('unknown parameter "force"; this action takes: service, limit, duration, comment');
  });

  it('refuses missing parameters, saying what they accept', () => {
    expect(refusal({ duration: '30m', comment: 'x' })).toBe('missing parameter service: one of: api, worker');
  });

  it('reports every problem at once', () => {
    expect(refusal({ service: 'db', limit: 0, duration: 'forever', comment: 'x' })).toBe(
      'service must be one of: api, worker (got "db"); limit must be from 1 to 1000 (got 0); duration must be a duration like 30m, 4h or 1h30m (got "forever")',
    );
  });

  it.each([[0], [1001], ['1e3'], ['12abc'], [' 12'], ['0x10'], [1.5], [null], [true]])('refuses the integer %j', (limit) => {
    expect(refusal({ ...ok, limit })).toMatch(/^limit must be/);
  });

  it.each([
    ['25h', 'duration may be at most 24h (got 25h)'],
    ['30s', 'duration must be at least 1m (got 30s)'],
    ['0m', 'duration must be a duration like 30m, 4h or 1h30m (got "0m")'],
    ['30', 'duration must be a duration like 30m, 4h or 1h30m (got "30")'],
    ['-5m', 'duration must be a duration like 30m, 4h or 1h30m (got "-5m")'],
    ['5m;id', 'duration must be a duration like 30m, 4h or 1h30m (got "5m;id")'],
  ])('refuses the duration %j', (duration, message) => {
    expect(refusal({ ...ok, duration })).toBe(message);
  });

  it('takes text with shell characters as data, but not line breaks, control characters or too much', () => {
    expect(schema.parse({ ...ok, comment: `it's $(id) and \`id\`; "quoted"` }).comment).toBe(`it's $(id) and \`id\`; "quoted"`);
    expect(refusal({ ...ok, comment: 'one\ntwo' })).toBe('comment must be one line without control characters');
    expect(refusal({ ...ok, comment: 'bell\u0007' })).toBe('comment must be one line without control characters');
    expect(refusal({ ...ok, comment: 'x'.repeat(51) })).toBe('comment may be at most 50 characters (got 51)');
    expect(refusal({ ...ok, comment: '' })).toBe('comment must not be empty');
  });

  it('applies a text pattern to the whole value', () => {
    const s = paramsSchemaFor(paramsSpecSchema.parse({ ticket: { text: { maxLength: 20, pattern: 'INC-[0-9]+' } } }));
    expect(s.parse({ ticket: 'INC-42' })).toEqual({ ticket: 'INC-42' });
    expect(refusal({ ticket: 'INC-42; id' }, s)).toBe('ticket must match INC-[0-9]+ (got "INC-42; id")');
  });

  it('leaves an absent optional text out, and checks it like any text when given', () => {
    const s = paramsSchemaFor(paramsSpecSchema.parse({ note: { text: { maxLength: 10 }, optional: true }, n: { integer: { min: 1, max: 2 } } }));
    expect(s.parse({ n: 1 })).toEqual({ n: 1 });
    expect(Object.hasOwn(s.parse({ n: 1 }), 'note')).toBe(false);
    expect(s.parse({ n: 1, note: 'hi' })).toEqual({ n: 1, note: 'hi' });
    expect(refusal({ n: 1, note: '' }, s)).toBe('note must not be empty');
    expect(refusal({ n: 1, note: 'x'.repeat(11) }, s)).toBe('note may be at most 10 characters (got 11)');
    expect(refusal({ note: 'hi' }, s)).toBe('missing parameter n: a whole number from 1 to 2');
    expect(paramHelp(paramsSpecSchema.parse({ note: { text: { maxLength: 10 }, optional: true, description: 'a note' } }))).toEqual({
      note: 'a note: text, at most 10 characters, one line (optional)',
    });
  });

  it('refuses anything that is not a parameter map', () => {
    expect(refusal('service=api')).toBe('parameters must be name=value pairs; this action takes: service, limit, duration, comment');
    expect(refusal(['api'])).toMatch(/^parameters must be name=value pairs/);
  });

  it('describes each parameter for help', () => {
    expect(paramHelp(spec)).toEqual({
      service: 'one of: api, worker',
      limit: 'a whole number from 1 to 1000 (default 100)',
      duration: 'a duration like 30m or 4h, at most 24h',
      comment: 'text, at most 50 characters, one line',
    });
  });
});

describe('parameter declarations (config load)', () => {
  const problems = (input: unknown): string[] => {
    const r = paramsSpecSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('refuses bad declarations', () => {
    expect(problems({ s: { enum: [] } })).not.toEqual([]);
    expect(problems({ s: { enum: ['a', 'a'] } })).toEqual(['s: enum values must be distinct']);
    expect(problems({ s: { enum: ['a\nb'] } })).not.toEqual([]);
    expect(problems({ n: { integer: { min: 5, max: 1 } } })).toEqual(['n: integer min must not exceed max']);
    expect(problems({ d: { duration: { max: 'a day' } } })).toEqual(['d: duration max "a day" is not a duration like 30m or 24h']);
    expect(problems({ t: { text: { maxLength: 10, pattern: '(' } } })).toEqual(['t: text pattern "(" is not a valid regular expression']);
    expect(problems({ s: { enum: ['a'], default: 'b' } })).toEqual(['s: default: default must be one of: a (got "b")']);
    expect(problems({ s: { shell: 'x' } })).toHaveLength(1);
    expect(problems({ t: { text: { maxLength: 10 }, optional: true, default: 'x' } })).toEqual([
      't: optional and default exclude each other: an optional parameter is absent when not given',
    ]);
    expect(problems({ t: { text: { maxLength: 10 }, optional: false } })).toHaveLength(1);
    expect(problems({ s: { enum: ['a'], optional: true } })).toHaveLength(1);
    expect(problems({ 'bad-name': { enum: ['a'] } })).toHaveLength(1);
  });

  it('parses durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1 h')).toBeNull();
    expect(parseDuration('')).toBeNull();
  });
});

describe('templates', () => {
  it('substitutes inside one element without splitting it', () => {
    expect(fillTemplate('--unit={service}.service', { service: 'a b;c' })).toBe('--unit=a b;c.service');
  });

  it('leaves JSON braces alone', () => {
    expect(fillTemplate('{"service": "{service}", "n": {n}}', { service: 'api', n: 3 })).toBe('{"service": "api", "n": 3}');
  });
});

describe('runner config', () => {
  const problems = (input: unknown): string[] => {
    const r = runnerConfigSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.') || '(action)'}: ${i.message}`);
  };
  const parse = (input: unknown): RunnerSpec => runnerConfigSchema.parse(input);

  it('parses an exec action with PATH and HOME always passed', () => {
    const s = parse({ exec: ['systemctl', 'restart', '{service}'], params: { service: { enum: ['api', 'worker'] } }, timeout: '1m', env: ['KUBECONFIG'] });
    expect(s).toMatchObject({ kind: 'exec', argv: ['systemctl', 'restart', '{service}'], envAllow: ['PATH', 'HOME', 'KUBECONFIG'], timeoutMs: 60_000, outputCapBytes: 16_384 });
    expect(previewRun(s, { service: 'api' })).toBe('systemctl restart api');
    expect(previewRun(s, { service: "a;b $(id) it's" })).toBe(`systemctl restart 'a;b $(id) it'\\''s'`);
  });

  it('refuses a template naming an undeclared parameter', () => {
    expect(problems({ exec: ['systemctl', 'restart', '{service}'], params: {} })).toEqual(['exec.2: {service} is not a declared parameter']);
    expect(problems({ http: { method: 'POST', url: 'https://ci.example.com/hooks/{job}' } })).toEqual(['http.url: {job} is not a declared parameter']);
    expect(problems({ http: { method: 'POST', url: 'https://ci.example.com/hooks', body: '{"x": "{y}"}' } })).toEqual(['http.body: {y} is not a declared parameter']);
  });

  it('refuses text parameters in an argv, and a parameter as the program', () => {
    expect(problems({ exec: ['/usr/local/bin/notify', '{why}'], params: { why: { text: { maxLength: 100 } } } })).toEqual([
      'exec.1: {why} is a text parameter; exec arguments may only use enum, integer or duration parameters',
    ]);
    expect(problems({ exec: ['{prog}', 'x'], params: { prog: { enum: ['ls'] } } })).toEqual(['exec.0: the program (first element) must be fixed, not a {parameter}']);
  });

  it('refuses an optional parameter in a template: it may have no value to fill in', () => {
    const params = { note: { text: { maxLength: 100 }, optional: true }, job: { enum: ['a'] } };
    expect(problems({ http: { method: 'POST', url: 'https://ci.example.com/hooks/{job}?note={note}', body: '{"note": "{note}"}' }, params })).toEqual([
      'http.url: {note} is optional and may have no value; templates take only parameters that are always given',
      'http.body: {note} is optional and may have no value; templates take only parameters that are always given',
    ]);
    expect(problems({ exec: ['/usr/local/bin/notify', '{note}'], params })).toContain(
      'exec.1: {note} is optional and may have no value; templates take only parameters that are always given',
    );
    expect(problems({ http: { method: 'POST', url: 'https://ci.example.com/hooks/{job}', body: '{"job": "{job}"}' }, params })).toEqual([]);
  });

  it('needs exactly one runner', () => {
    expect(problems({})).toEqual(['(action): needs a runner: one of exec, http or builtin']);
    expect(problems({ exec: ['true'], builtin: 'bullmq.pause' })).toEqual(['(action): has exec and builtin: exactly one runner per action']);
    expect(problems({ builtin: 'shell.run' })).toEqual(['builtin: builtin must be one of: bullmq.retryFailed, bullmq.pause, bullmq.resume, bullmq.clean, alertmanager.silence, alertmanager.expireSilence, postgres.cancel, postgres.terminate, postgres.vacuum']);
    expect(problems({ builtin: 'bullmq.pause', env: ['X'] })).toEqual(['env: only exec actions take env (http headers name their variables as ${env:NAME})']);
    expect(problems({ exec: ['true'], env: ['KUBECONFIG', 'SLACK_BOT_TOKEN', 'DATABASE_URL'] })).toEqual([
      "env.1: SLACK_BOT_TOKEN is one of Vigil's own settings and is never passed to an action",
      "env.2: DATABASE_URL is one of Vigil's own settings and is never passed to an action",
    ]);
    expect(problems({ http: { method: 'GET', url: 'https://example.com/', headers: { Authorization: 'Bearer ${env:SLACK_BOT_TOKEN}' } } })).toEqual([
      "http.headers.Authorization: SLACK_BOT_TOKEN is one of Vigil's own settings and is never sent by an action",
    ]);
    expect(problems({ exec: ['true'], timeout: '1d' })).toEqual(['timeout: must be a duration from 1s to 15m like 30s or 5m (got "1d")']);
  });

  it('keeps the http origin fixed and headers free of parameters', () => {
    const params = { host: { enum: ['a'] } };
    expect(problems({ http: { method: 'GET', url: 'https://{host}.example.com/' }, params })).toHaveLength(1);
    expect(problems({ http: { method: 'GET', url: 'https://example.com{host}' }, params })).toHaveLength(1);
    expect(problems({ http: { method: 'GET', url: 'ftp://example.com/' } })).toHaveLength(1);
    expect(problems({ http: { method: 'GET', url: 'https://u:p@example.com/' } })).toEqual(['http.url: must not carry credentials: send them in a header from ${env:NAME}']);
    expect(problems({ http: { method: 'GET', url: 'https://example.com/', headers: { 'X-Host': '{host}' } }, params })).toEqual([
      'http.headers.X-Host: header values take no {parameters}, only literals and ${env:NAME}',
    ]);
    expect(problems({ http: { method: 'POST', url: 'https://example.com/', body: '{"a": {host}}' }, params })).toEqual([
      'http.body: is not valid JSON once parameters are filled in (write string parameters inside quotes: "{name}")',
    ]);
  });

  it('previews an http action without header values', () => {
    const s = parse({
      http: { method: 'POST', url: 'https://ci.example.com/hooks/{job}?token=abc', headers: { Authorization: 'Bearer ${env:CI_TOKEN}' }, body: '{"why": "{why}"}' },
      params: { job: { enum: ['deploy api'] }, why: { text: { maxLength: 100 } } },
    });
    expect(s).toMatchObject({ kind: 'http', bodyEncoding: 'json', timeoutMs: 10_000 });
    expect(previewRun(s, { job: 'deploy api', why: 'say "hi"' })).toBe('POST https://ci.example.com/hooks/deploy%20api?… with body {"why": "say \\"hi\\""}');
  });

  it('gives builtins their fixed parameters, narrowed by the config', () => {
    const s = parse({ builtin: 'bullmq.retryFailed', params: { queue: { enum: ['emails'] }, limit: { integer: { min: 1, max: 50 }, default: 10 } } });
    expect(s.params).toEqual({ queue: { enum: ['emails'] }, limit: { integer: { min: 1, max: 50 }, default: 10 } });
    expect(previewRun(s, { queue: 'emails', limit: 10 })).toBe('bullmq.retryFailed queue=emails limit=10');
    const defaults = parse({ builtin: 'bullmq.retryFailed' });
    expect(paramsSchemaFor(defaults.params).parse({ queue: 'emails' })).toEqual({ queue: 'emails', limit: 100 });
    expect(explainParamsError(paramsSchemaFor(defaults.params).safeParse({ queue: 'a:b' }).error!)).toBe('queue must match [^:*?\\s]{1,200} (got "a:b")');
  });

  it('refuses builtin declarations that widen or replace what the builtin takes', () => {
    expect(problems({ builtin: 'bullmq.retryFailed', params: { limit: { integer: { min: 1, max: 5000 } } } })).toEqual([
      'params.limit: bullmq.retryFailed limit: min and max must stay within 1..1000',
    ]);
    expect(problems({ builtin: 'bullmq.pause', params: { queue: { text: { maxLength: 10 } } } })).toEqual(['params.queue: bullmq.pause queue: must be declared as enum']);
    expect(problems({ builtin: 'bullmq.pause', params: { queue: { enum: ['ok', 'bad:name'] } } })).toEqual([
      'params.queue: bullmq.pause queue: values "bad:name" are not allowed here (must match [^:*?\\s]{1,200})',
    ]);
    expect(problems({ builtin: 'bullmq.pause', params: { force: { enum: ['yes'] } } })).toEqual(['params.force: bullmq.pause takes only: queue']);
    expect(problems({ builtin: 'alertmanager.silence', params: { duration: { duration: { max: '60d' } } } })).toEqual([
      'params.duration: alertmanager.silence duration: must stay within 1m..30d',
    ]);
    expect(problems({ builtin: 'alertmanager.expireSilence', params: { id: { text: { maxLength: 36 } } } })).toEqual([
      'params.id: alertmanager.expireSilence id: is fixed by the builtin and cannot be declared',
    ]);
  });

  it('lets a silence take further label matchers', () => {
    const s = parse({ builtin: 'alertmanager.silence', params: { instance: { enum: ['db1', 'db2'] }, duration: { duration: { max: '4h', min: '5m' } } } });
    expect(Object.keys(s.params)).toEqual(['alertname', 'duration', 'comment', 'matchers', 'instance']);
    expect(explainParamsError(paramsSchemaFor(s.params).safeParse({ alertname: 'DiskFull', duration: '5h', comment: 'x', instance: 'db1' }).error!)).toBe(
      'duration may be at most 4h (got 5h)',
    );
    expect(problems({ builtin: 'alertmanager.silence', params: { n: { integer: { min: 1, max: 2 } } } })).toEqual([
      'params.n: alertmanager.silence: extra parameters are label matchers and must be enum or text',
    ]);
  });

  it('gives a silence optional further matchers, which a config may narrow or require but not loosen', () => {
    const s = parse({ builtin: 'alertmanager.silence' });
    expect(s.params.matchers).toEqual({ text: { maxLength: 2000 }, optional: true, description: 'further label matchers, name="value" separated by commas' });
    const schema = paramsSchemaFor(s.params);
    expect(schema.parse({ alertname: 'ApiDown', duration: '1h', comment: 'x' })).toEqual({ alertname: 'ApiDown', duration: '1h', comment: 'x' });
    expect(schema.parse({ alertname: 'ApiDown', duration: '1h', comment: 'x', matchers: 'env="prod"' }).matchers).toBe('env="prod"');
    expect(paramHelp(s.params).matchers).toBe('further label matchers, name="value" separated by commas: text, at most 2000 characters, one line (optional)');

    expect(problems({ builtin: 'alertmanager.silence', params: { matchers: { text: { maxLength: 300 }, optional: true } } })).toEqual([]);
    expect(problems({ builtin: 'alertmanager.silence', params: { matchers: { text: { maxLength: 300 } } } })).toEqual([]);
    expect(problems({ builtin: 'alertmanager.silence', params: { matchers: { text: { maxLength: 300 }, default: 'env="prod"' } } })).toEqual([]);
    expect(problems({ builtin: 'alertmanager.silence', params: { matchers: { text: { maxLength: 300 }, default: 'env=prod' } } })).toEqual([
      'params.matchers: alertmanager.silence matchers: the value of env must be in double quotes; write name="value" pairs separated by commas',
    ]);
    expect(problems({ builtin: 'alertmanager.silence', params: { matchers: { enum: ['env="prod"'] } } })).toEqual([
      'params.matchers: alertmanager.silence matchers: must be declared as text',
    ]);
    expect(problems({ builtin: 'alertmanager.silence', params: { comment: { text: { maxLength: 100 }, optional: true } } })).toEqual([
      'params.comment: alertmanager.silence comment: is required by the builtin and cannot be optional',
    ]);
    // A further label parameter may be optional: absent, it matches nothing more.
    const withTeam = parse({ builtin: 'alertmanager.silence', params: { team: { text: { maxLength: 50 }, optional: true } } });
    expect(paramsSchemaFor(withTeam.params).parse({ alertname: 'A', duration: '1h', comment: 'x' })).toEqual({ alertname: 'A', duration: '1h', comment: 'x' });
  });

  it('checks silence ids for a UUID shape', () => {
    const s = parse({ builtin: 'alertmanager.expireSilence' });
    expect(paramsSchemaFor(s.params).safeParse({ id: '9c2b7b3e-2f0a-4a8c-9d8e-1b2c3d4e5f60' }).success).toBe(true);
    expect(paramsSchemaFor(s.params).safeParse({ id: '../../silences' }).success).toBe(false);
  });
});

describe('redactValues', () => {
  it('masks secret values, a secret cut by truncation, and URL passwords', () => {
    expect(redactValues('token=s3cr3t-value and again s3cr3t-value', ['s3cr3t-value'])).toBe('token=*** and again ***');
    expect(redactValues('tail s3cr3t-v\n… [output truncated at 20 bytes]', ['s3cr3t-value'])).toBe('tail ***\n… [output truncated at 20 bytes]');
    expect(redactValues('postgres://u:pw@h/db', [])).toBe('postgres://u:***@h/db');
    expect(redactValues('on 1 on', ['on'])).toBe('on 1 on');
  });
});
