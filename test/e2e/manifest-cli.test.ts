/**
 * `npm run manifest` as a person runs it: the real npm script, tsx and file system. A custom
 * manifest (their URL, their features' scopes) goes where they ask; the checked-in manifests,
 * which the freshness test compares, are never touched by it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allCommands as commands } from '../../commands/index.ts';
import { MANIFEST_PATHS, manifestFile } from '../../src/slack/manifest.ts';
import { REPO_ROOT } from '../support/run-process.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], cwd = REPO_ROOT): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: 30_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir() } }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}
/** `npm run -s manifest -- …`: -s so npm adds no header to stdout. */
const npmManifest = (...args: string[]) => run('npm', ['run', '-s', 'manifest', '--', ...args]);

interface Manifest {
  features: { slash_commands: { command: string; url?: string }[] };
  oauth_config: { scopes: { bot: string[] } };
  settings: { socket_mode_enabled: boolean; interactivity: { request_url?: string } };
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-manifest-e2e-'));
const checkedIn = Object.values(MANIFEST_PATHS).map((p) => join(REPO_ROOT, p));
let before: { text: string; mtimeMs: number }[] = [];
let refusals = 0;

beforeAll(() => {
  before = checkedIn.map((p) => ({ text: readFileSync(p, 'utf8'), mtimeMs: statSync(p).mtimeMs }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run manifest -- --url …', () => {
  it('writes an HTTP manifest calling <url>/slack/events into the file asked for', async () => {
    const out = join(dir, 'app.json');
    const r = await npmManifest('--url', 'https://vigil.acme.test/', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`wrote ${out}\n  HTTP mode: Slack calls https://vigil.acme.test/slack/events\n`);
    const text = readFileSync(out, 'utf8');
    expect(text).toBe(manifestFile(commands, 'http', { baseUrl: 'https://vigil.acme.test' }));
    const m = JSON.parse(text) as Manifest;
    expect(new Set(m.features.slash_commands.map((c) => c.url))).toEqual(new Set(['https://vigil.acme.test/slack/events']));
    expect(m.settings.interactivity.request_url).toBe('https://vigil.acme.test/slack/events');
    expect(m.oauth_config.scopes.bot).toEqual(['commands', 'chat:write', 'channels:history', 'groups:history', 'channels:manage', 'channels:read', 'channels:write.invites', 'channels:write.topic', 'usergroups:read']);
  });

  it('writes slack-app.json in the directory it runs in by default', async () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    const r = await run(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [join(REPO_ROOT, 'src', 'slack', 'write-manifests.ts'), '--url', 'https://ops.acme.test/vigil'], cwd);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote slack-app\.json\n/);
    expect(readFileSync(join(cwd, 'slack-app.json'), 'utf8')).toBe(manifestFile(commands, 'http', { baseUrl: 'https://ops.acme.test/vigil' }));
  });

  it('--mode socket --config prints a Socket Mode manifest with only the scopes that configuration uses', async () => {
    const config = join(dir, 'vigil.yaml');
    writeFileSync(config, 'alerts:\n  channels:\n    default: C0ALERTS\n');
    const r = await npmManifest('--mode', 'socket', '--config', config, '--out', '-');
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout) as Manifest;
    expect(m.settings.socket_mode_enabled).toBe(true);
    expect(m.features.slash_commands.every((c) => c.url === undefined)).toBe(true);
    expect(m.oauth_config.scopes.bot).toEqual(['commands', 'chat:write', 'channels:history', 'groups:history']);
    expect(r.stderr).toContain('bot scopes commands, chat:write, channels:history, groups:history');
  });

  it.each([
    [['--url', 'http://vigil.acme.test'], /--url: must start with https:\/\//],
    [['--url', 'https://vigil.acme.test/slack/events'], /without \/slack\/events/],
    [['--url', 'https://vigil.acme.test?team=x'], /query/],
    [['--mode', 'socket', '--url', 'https://vigil.acme.test'], /Socket Mode has no request URL/],
    [['--mode', 'http'], /HTTP mode needs your public URL/],
    [['--urll', 'https://vigil.acme.test'], /Unknown option '--urll'/],
  ])('refuses %j: exit 64, says why, writes nothing', async (args, message) => {
    const out = join(dir, `refused-${(refusals += 1)}.json`);
    const r = await npmManifest(...args, '--out', out);
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('npm run manifest -- --help');
    expect(existsSync(out)).toBe(false);
  });

  it('refuses to put a real URL into a checked-in manifest', async () => {
    const r = await npmManifest('--url', 'https://vigil.acme.test', '--out', join(REPO_ROOT, MANIFEST_PATHS.http));
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/manifests\/slack-app\.http\.json is the checked-in manifest/);
  });

  it('an invalid --config exits 65 naming the key', async () => {
    const config = join(dir, 'typo.yaml');
    writeFileSync(config, 'alerts:\n  chanels: {}\n');
    const r = await npmManifest('--mode', 'socket', '--config', config, '--out', '-');
    expect(r.code).toBe(65);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/alerts: Unrecognized key: "chanels"/);
  });

  it('left the checked-in manifests (what the freshness test compares) untouched', () => {
    const after = checkedIn.map((p) => ({ text: readFileSync(p, 'utf8'), mtimeMs: statSync(p).mtimeMs }));
    expect(after).toEqual(before);
    expect(before.map((b) => b.text)).toEqual([manifestFile(commands, 'http'), manifestFile(commands, 'socket')]);
  });
});
