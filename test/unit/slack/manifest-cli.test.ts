import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allCommands as commands } from '../../../commands/index.ts';
import { EXIT_DATAERR, EXIT_USAGE, featuresFromConfigFile, ManifestCliError, planFromArgv, publicBaseUrl, runManifestCli } from '../../../src/slack/manifest-cli.ts';
import { manifestFile } from '../../../src/slack/manifest.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-manifest-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function usageError(argv: string[]): string {
  try {
    planFromArgv(argv);
  } catch (err) {
    if (err instanceof ManifestCliError && err.exitCode === EXIT_USAGE) return err.message;
    throw err;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

function configFile(name: string, yaml: string): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}

const action = (approvers: string) => `
    retry-failed:
      title: Retry failed jobs
      risk: low
      builtin: bullmq.retryFailed
      approvers: ${approvers}`;

describe('npm run manifest: the command line', () => {
  it('with no options regenerates the checked-in manifests', () => {
    expect(planFromArgv([])).toEqual({ kind: 'checked-in' });
  });

  it('--url means HTTP mode into slack-app.json; --mode socket needs no URL', () => {
    expect(planFromArgv(['--url', 'https://vigil.acme.test'])).toEqual({ kind: 'custom', mode: 'http', baseUrl: 'https://vigil.acme.test', out: 'slack-app.json' });
    expect(planFromArgv(['--mode', 'socket', '--out', '-'])).toEqual({ kind: 'custom', mode: 'socket', out: '-' });
    expect(planFromArgv(['--url=https://vigil.acme.test', '--config', 'manifests/vigil.yaml'])).toMatchObject({ config: 'manifests/vigil.yaml' });
  });

  it.each([
    ['https://vigil.acme.test/', 'https://vigil.acme.test'],
    ['  https://Vigil.Acme.test:8443//  ', 'https://vigil.acme.test:8443'],
    ['https://ops.acme.test/vigil/', 'https://ops.acme.test/vigil'],
  ])('normalises the base URL %j to %j', (given, want) => {
    expect(publicBaseUrl.parse(given)).toBe(want);
  });

  it.each([
    [['--url', 'http://vigil.acme.test'], /--url: must start with https:\/\//],
    [['--url', 'vigil.acme.test'], /--url: not a URL/],
    [['--url', 'https://vigil.acme.test/?x=1'], /query/],
    [['--url', 'https://vigil.acme.test/#top'], /fragment/],
    [['--url', 'https://me:pw@vigil.acme.test'], /user name or password/],
    [['--url', 'https://localhost:3000'], /this machine/],
    [['--url', 'https://127.0.0.1'], /this machine/],
    [['--url', 'https://vigil.acme.test/slack/events'], /without \/slack\/events/],
    [['--url'], /argument missing/],
    [['--mode', 'webhook'], /--mode: must be http or socket/],
    [['--mode', 'http'], /HTTP mode needs your public URL/],
    [['--out', 'x.json'], /HTTP mode needs your public URL/],
    [['--mode', 'socket', '--url', 'https://vigil.acme.test'], /Socket Mode has no request URL/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['https://vigil.acme.test'], /positional/],
  ])('refuses %j', (argv, message) => {
    expect(usageError(argv)).toMatch(message);
  });
});

describe('npm run manifest: scopes from --config', () => {
  it('a configuration without alerts or actions needs only `commands`', () => {
    expect(featuresFromConfigFile(configFile('bare.yaml', 'bullmq:\n  prefix: shop\n'))).toEqual({ commands: true, alerts: false, actions: false, incidents: false, reports: false, userGroups: false });
    expect(featuresFromConfigFile(configFile('empty.yaml', ''))).toMatchObject({ alerts: false, actions: false });
  });

  it('alerts and actions turn on chat:write; an approver group turns on usergroups:read', () => {
    expect(featuresFromConfigFile(configFile('reports.yaml', 'reports:\n  daily: { channel: C0OPS, schedule: "0 0 9 * * *", window: 24h }\n'))).toMatchObject({ reports: true, alerts: false });
    expect(featuresFromConfigFile(configFile('alerts.yaml', 'alerts:\n  channels:\n    default: C0ALERTS\n'))).toMatchObject({ alerts: true, actions: false, userGroups: false });
    const users = configFile('users.yaml', `actions:\n  approvalChannel: C0APPROVE\n  catalog:${action('{ users: [U0ALICE] }')}\n`);
    expect(featuresFromConfigFile(users)).toMatchObject({ actions: true, userGroups: false });
    const groups = configFile('groups.yaml', `actions:\n  approvalChannel: C0APPROVE\n  catalog:${action('{ groups: [S0ONCALL] }')}\n`);
    expect(featuresFromConfigFile(groups)).toMatchObject({ actions: true, userGroups: true });
    const requesters = configFile('requesters.yaml', `actions:\n  approvalChannel: C0APPROVE\n  catalog:${action('{ users: [U0ALICE] }')}\n      requesters: { groups: [S0DEV] }\n`);
    expect(featuresFromConfigFile(requesters)).toMatchObject({ userGroups: true });
    const access = configFile('access.yaml', 'access:\n  commands:\n    audit: { groups: [S0SRE] }\n');
    expect(featuresFromConfigFile(access)).toMatchObject({ userGroups: true });
    const channelsOnly = configFile('channels.yaml', 'access:\n  commands:\n    audit: { channels: [C0OPS] }\n');
    expect(featuresFromConfigFile(channelsOnly)).toMatchObject({ userGroups: false });
  });

  it('the example configuration enables everything', () => {
    expect(featuresFromConfigFile(new URL('../../../manifests/vigil.example.yaml', import.meta.url).pathname)).toEqual({ commands: true, alerts: true, actions: true, incidents: true, reports: true, userGroups: true });
  });

  it('a missing, unreadable or invalid configuration is refused, naming the key', () => {
    expect(() => featuresFromConfigFile(join(dir, 'nope.yaml'))).toThrow(/file not found/);
    const bad = (name: string, yaml: string) => {
      try {
        featuresFromConfigFile(configFile(name, yaml));
      } catch (err) {
        return err instanceof ManifestCliError ? { code: err.exitCode, message: err.message } : err;
      }
      return null;
    };
    expect(bad('typo.yaml', 'bullmq:\n  prefx: shop\n')).toEqual({ code: EXIT_DATAERR, message: expect.stringMatching(/bullmq: Unrecognized key: "prefx"/) });
    expect(bad('broken.yaml', 'alerts: [\n')).toEqual({ code: EXIT_DATAERR, message: expect.stringMatching(/not valid YAML/) });
  });
});

describe('runManifestCli', () => {
  function run(argv: string[]) {
    const out = { stdout: '', stderr: '', files: new Map<string, string>() };
    const code = runManifestCli(argv, {
      commands,
      repoRoot: '/repo',
      cwd: '/repo',
      stdout: (t) => (out.stdout += t),
      stderr: (t) => (out.stderr += t),
      writeFile: (p, t) => out.files.set(p, t),
    });
    return { code, ...out };
  }

  it('writes the custom manifest where asked, relative to cwd', () => {
    const r = run(['--url', 'https://vigil.acme.test/', '--out', 'out/app.json']);
    expect(r.code).toBe(0);
    expect([...r.files.keys()]).toEqual(['/repo/out/app.json']);
    expect(r.files.get('/repo/out/app.json')).toBe(manifestFile(commands, 'http', { baseUrl: 'https://vigil.acme.test' }));
    expect(r.stdout).toMatch(/^wrote out\/app\.json\n {2}HTTP mode: Slack calls https:\/\/vigil\.acme\.test\/slack\/events\n/);
  });

  it('--out - prints the manifest alone on stdout, the summary on stderr', () => {
    const r = run(['--mode', 'socket', '--out', '-']);
    expect(r.code).toBe(0);
    expect(r.files.size).toBe(0);
    expect(r.stdout).toBe(manifestFile(commands, 'socket'));
    expect(r.stderr).toMatch(/Socket Mode; bot scopes commands, chat:write, channels:history, groups:history, channels:manage, channels:read, channels:write.invites, channels:write.topic, usergroups:read/);
  });

  it('never writes a checked-in manifest with a real URL', () => {
    const r = run(['--url', 'https://vigil.acme.test', '--out', 'manifests/slack-app.http.json']);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.files.size).toBe(0);
    expect(r.stderr).toMatch(/checked-in manifest/);
  });

  it('bad input: exit 64, the reason and where the options are, nothing written', () => {
    const r = run(['--url', 'http://vigil.acme.test']);
    expect(r).toMatchObject({ code: EXIT_USAGE, stdout: '' });
    expect(r.files.size).toBe(0);
    expect(r.stderr).toBe('manifest: --url: must start with https:// (Slack only calls HTTPS request URLs), got http://\nOptions: npm run manifest -- --help\n');
  });

  it('--help prints the options', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--url <https:\/\/host\[\/prefix\]>/);
  });
});
