import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';

const made: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'vigil-config-'));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('uses built-in defaults when nothing is configured: shell mode, port 3000', () => {
    const config = loadConfig({}, dir());
    expect(config.slack.kind).toBe('none');
    expect(config.env.PORT).toBe(3000);
    expect(config.file.bullmq.prefix).toBe('bull');
    expect(config.fileSource).toContain('built-in defaults');
  });

  it('picks HTTP mode with a signing secret and Socket Mode with an app token', () => {
    const http = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'a'.repeat(32) }, dir());
    expect(http.slack.kind).toBe('http');
    const socket = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_APP_TOKEN: 'xapp-1-abc' }, dir());
    expect(socket.slack.kind).toBe('socket');
  });

  it('lists every problem at once and never prints a secret value', () => {
    const secretToken = 'xoxp-leakme';
    const secretDb = 'mysql://admin:hunter2-secret@db/prod';
    const found = problems(() =>
      loadConfig({ SLACK_BOT_TOKEN: secretToken, DATABASE_URL: secretDb, PORT: 'eighty', LOG_LEVEL: 'loud' }, dir()),
    );
    expect(found.length).toBeGreaterThanOrEqual(4);
    const text = found.join('\n');
    for (const key of ['SLACK_BOT_TOKEN', 'DATABASE_URL', 'PORT', 'LOG_LEVEL']) expect(text).toContain(key);
    expect(text).not.toContain(secretToken);
    expect(text).not.toContain('hunter2');
  });

  it('requires a way in when a bot token is given alone, and a bot token with a signing secret', () => {
    expect(problems(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' }, dir())).join()).toMatch(/SLACK_SIGNING_SECRET.*SLACK_APP_TOKEN/);
    expect(problems(() => loadConfig({ SLACK_SIGNING_SECRET: 'a'.repeat(32) }, dir())).join()).toMatch(/SLACK_BOT_TOKEN: required/);
  });

  it('treats empty env values as unset, as a .env file with FOO= means', () => {
    expect(loadConfig({ DATABASE_URL: '', SLACK_BOT_TOKEN: '' }, dir()).env.DATABASE_URL).toBeUndefined();
  });

  it('reads the YAML file from VIGIL_CONFIG and rejects unknown keys and bad values with their path', () => {
    const d = dir();
    writeFileSync(join(d, 'ok.yaml'), 'bullmq:\n  prefix: jobs\n  queues:\n    emails: { waiting: 5 }\nprobes:\n  http:\n    - { name: api, url: "http://127.0.0.1:9/health" }\n');
    const config = loadConfig({ VIGIL_CONFIG: 'ok.yaml' }, d);
    expect(config.file.bullmq.prefix).toBe('jobs');
    expect(config.file.bullmq.queues.emails?.waiting).toBe(5);
    expect(config.file.probes.http[0]?.name).toBe('api');

    writeFileSync(join(d, 'bad.yaml'), 'bullmq:\n  prefx: jobs\nprobes:\n  timeoutMs: 99999\n  http:\n    - { name: api, url: "ftp://x" }\n');
    const found = problems(() => loadConfig({ VIGIL_CONFIG: 'bad.yaml' }, d)).join('\n');
    expect(found).toContain('prefx');
    expect(found).toContain('probes.timeoutMs');
    expect(found).toContain('probes.http.0.url');
  });

  it('refuses Vigil’s own queue prefix when it is the prefix Vigil inspects', () => {
    const d = dir();
    writeFileSync(join(d, 'same.yaml'), 'bullmq:\n  prefix: jobs\nstate:\n  queuePrefix: jobs\n');
    expect(problems(() => loadConfig({ VIGIL_CONFIG: 'same.yaml' }, d)).join('\n')).toContain('state.queuePrefix: must differ from bullmq.prefix');
    const config = loadConfig({ VIGIL_DATABASE_URL: 'postgres://vigil@db/vigil', SLACK_API_URL: 'http://127.0.0.1:9/api' }, d);
    expect([config.file.state.queuePrefix, config.env.VIGIL_DATABASE_URL]).toEqual(['vigil', 'postgres://vigil@db/vigil']);
    // The Web API client appends method names to the base: it gets its trailing slash once, here.
    expect(config.slackApiUrl).toBe('http://127.0.0.1:9/api/');
  });

  it('takes the HTTP intake limits from an `http:` section, in MiB for the body budget, and refuses ones that contradict each other', () => {
    const d = dir();
    expect(loadConfig({}, d).file.http).toEqual({ headersTimeoutMs: 5000, requestTimeoutMs: 10_000, bodyTimeoutMs: 8000, maxConnections: 512, maxUnverifiedBodyBytes: 32 * 1024 * 1024 });
    writeFileSync(join(d, 'limits.yaml'), 'http:\n  headersTimeoutMs: 2000\n  maxConnections: 64\n  maxUnverifiedBodyMiB: 4\n');
    expect(loadConfig({ VIGIL_CONFIG: 'limits.yaml' }, d).file.http).toEqual({ headersTimeoutMs: 2000, requestTimeoutMs: 10_000, bodyTimeoutMs: 8000, maxConnections: 64, maxUnverifiedBodyBytes: 4 * 1024 * 1024 });
    writeFileSync(join(d, 'bad-limits.yaml'), 'http:\n  requestTimeoutMs: 3000\n  maxConnections: 2\n  maxUnverifiedBodyBytes: 5\n');
    const found = problems(() => loadConfig({ VIGIL_CONFIG: 'bad-limits.yaml' }, d)).join('\n');
    expect(found).toContain('http.maxConnections');
    expect(found).toContain('maxUnverifiedBodyBytes'); // unknown key: the file speaks MiB
    writeFileSync(join(d, 'contradicting.yaml'), 'http:\n  requestTimeoutMs: 3000\n');
    expect(problems(() => loadConfig({ VIGIL_CONFIG: 'contradicting.yaml' }, d)).join('\n')).toMatch(/http\.headersTimeoutMs: must not exceed requestTimeoutMs[\s\S]*http\.bodyTimeoutMs: must not exceed/);
  });

  it('reports a missing VIGIL_CONFIG file and broken YAML', () => {
    const d = dir();
    expect(problems(() => loadConfig({ VIGIL_CONFIG: 'nope.yaml' }, d)).join()).toContain('file not found');
    writeFileSync(join(d, 'broken.yaml'), 'bullmq: [unclosed\n');
    expect(problems(() => loadConfig({ VIGIL_CONFIG: 'broken.yaml' }, d)).join()).toContain('not valid YAML');
  });

  it('says a config file that cannot be read cannot be read, not that its YAML is broken', () => {
    const d = dir();
    // A directory: unreadable even for root, who runs CI here (a permission bit would not stop root).
    mkdirSync(join(d, 'dir.yaml'));
    expect(problems(() => loadConfig({ VIGIL_CONFIG: 'dir.yaml' }, d))).toEqual([`VIGIL_CONFIG: ${join(d, 'dir.yaml')} cannot be read (EISDIR)`]);
    mkdirSync(join(d, 'manifests', 'vigil.yaml'), { recursive: true });
    expect(problems(() => loadConfig({}, d))).toEqual([`the default configuration: ${join(d, 'manifests', 'vigil.yaml')} cannot be read (EISDIR)`]);
  });

  it('a missing default manifests/vigil.yaml is no error: built-in defaults; only an explicit VIGIL_CONFIG must exist', () => {
    const d = dir();
    expect(loadConfig({}, d).fileSource).toMatch(/^built-in defaults/);
    expect(loadConfig({ VIGIL_CONFIG: '' }, d).fileSource).toMatch(/^built-in defaults/);
    expect(problems(() => loadConfig({ VIGIL_CONFIG: 'manifests/vigil.yaml' }, d)).join()).toContain('VIGIL_CONFIG: file not found');
  });

  it('listens on loopback only unless Slack over HTTP needs to be reachable or HOST says where', () => {
    const slackHttp = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'a'.repeat(32) };
    expect(loadConfig({}, dir()).httpHost).toBe('127.0.0.1');
    expect(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_APP_TOKEN: 'xapp-1-abc' }, dir()).httpHost).toBe('127.0.0.1');
    expect(loadConfig(slackHttp, dir()).httpHost).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0' }, dir()).httpHost).toBe('0.0.0.0');
    expect(loadConfig({ ...slackHttp, HOST: '10.1.2.3' }, dir()).httpHost).toBe('10.1.2.3');
    expect(loadConfig({ HOST: '::' }, dir()).httpHost).toBe('::');
    expect(problems(() => loadConfig({ HOST: 'http://0.0.0.0/' }, dir())).join()).toContain('env HOST: must be an address to listen on');
  });

  it('loads the shipped example configuration', () => {
    const root = new URL('../../..', import.meta.url).pathname;
    const config = loadConfig({ VIGIL_CONFIG: 'manifests/vigil.example.yaml' }, root);
    expect(config.file.probes.http.length).toBeGreaterThan(0);
    expect(config.file.slack.outbox).toEqual({ perSecond: 0.9, burst: 3 });
    expect(config.file.state.queuePrefix).toBe('vigil');
  });
});
