/**
 * deploy/vigil-runner.service, the action runner's systemd unit: parsed and checked against
 * deploy/vigil.service and against what Vigil reads, then performed without systemd. Its ExecStart
 * (under /opt/vigil, mapped to this checkout) runs as a non-root user (nobody stands in for
 * vigil-runner) in a state directory of its own, with only the variables its install notes list
 * for /etc/vigil/runner.env and its Environment= lines; it must say it is ready and exit 0 on the
 * unit's KillSignal within TimeoutStopSec; given a Slack secret the notes forbid, say so; given a
 * config that runs actions in-process, refuse to start.
 * `systemd-analyze verify` where systemd is installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { NOT_FOR_THE_RUNNER } from '../../src/actions/runner-process.ts';
import { EXIT } from '../../src/core/exit-codes.ts';
import { SLACK_OR_WEBHOOK, VIGIL_ENV, cliToolOf, isCompiledCli, parseUnit, readRepoFile, seconds } from '../support/deploy-files.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { REPO_ROOT, ensureBuilt, type ProcessExit } from '../support/run-process.ts';
import { waitFor } from '../support/wait.ts';

const UNIT_FILE = 'deploy/vigil-runner.service';
const UNIT_TEXT = readRepoFile(UNIT_FILE);
const runnerUnit = parseUnit(UNIT_TEXT);
const botUnit = parseUnit(readRepoFile('deploy/vigil.service'));
const setting = (unit: typeof runnerUnit, key: string): string => unit.Service?.[key]?.at(-1) ?? '';
const runner = (key: string): string => setting(runnerUnit, key);
const bot = (key: string): string => setting(botUnit, key);

/** What the install notes put in /etc/vigil/runner.env: their `#   NAME=value` lines. */
const NOTED_ENV = [...UNIT_TEXT.matchAll(/^#\s+([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => m[1] ?? '');
/** `Environment=NAME=value` lines of the unit. */
const UNIT_ENV = Object.fromEntries((runnerUnit.Service?.Environment ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
/** The settings that confine the bot's service; the runner's must be at least as tight. */
const HARDENING = /^(NoNewPrivileges|Protect\w+|Private\w+|Restrict\w+)$/;

const NOBODY = 65534;

/** TCP sockets `pid` listens on (its socket fds found in its network namespace's tables). */
function listeningSockets(pid: number): number {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      const target = (() => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return ''; // closed meanwhile
        }
      })();
      return /^socket:\[(\d+)\]$/.exec(target)?.slice(1) ?? [];
    }),
  );
  const rows = ['tcp', 'tcp6'].flatMap((t) => readFileSync(`/proc/${pid}/net/${t}`, 'utf8').split('\n').slice(1));
  return rows.map((r) => r.trim().split(/\s+/)).filter((f) => f[3] === '0A' && inodes.has(f[9] ?? '')).length;
}
let db: TestDatabase | undefined;
let child: ChildProcess | undefined;
const dirs: string[] = [];
const prefixes = { state: uniqueName('rsvc_state'), inspected: uniqueName('rsvc') };

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  for (const prefix of Object.values(prefixes)) await deleteKeysUnder(redis, prefix);
  redis.disconnect();
  await db?.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('deploy/vigil-runner.service', () => {
  it("runs the runner tool with node, as a non-root user other than the bot's, in a state directory of its own", () => {
    const [program = '', script = '', ...words] = runner('ExecStart').split(/\s+/);
    expect(program).toMatch(/^\/\S*\/node$/);
    expect(isCompiledCli(script, runner('WorkingDirectory')), script).toBe(true);
    expect(cliToolOf(words)?.usage, words.join(' ')).toBe('vigil runner');
    // The same installation as the bot's.
    const installOf = (execStart: string): string => /^\S+\s+(\S*)\/dist\//.exec(execStart)?.[1] ?? '';
    expect(installOf(runner('ExecStart'))).not.toBe('');
    expect(installOf(runner('ExecStart'))).toBe(installOf(bot('ExecStart')));

    for (const key of ['User', 'Group']) {
      expect(runner(key), key).not.toMatch(/^(root|0|)$/);
      // Another OS user: an action cannot read the bot's /proc/<pid>/environ.
      expect(runner(key), key).not.toBe(bot(key));
    }
    expect(UNIT_TEXT, 'the install notes create the user').toMatch(new RegExp(`^#.*useradd .*\\b${runner('User')}$`, 'm'));
    expect(runner('StateDirectory')).not.toBe('');
    expect(runner('StateDirectory')).not.toBe(bot('StateDirectory'));
    // It writes .vigil/ in its working directory: the state directory systemd creates for the user.
    expect(runner('WorkingDirectory')).toBe(`/var/lib/${runner('StateDirectory')}`);
    expect(runner('EnvironmentFile')).toBe('/etc/vigil/runner.env');
    expect(runner('EnvironmentFile')).not.toBe(bot('EnvironmentFile'));
  });

  it('stops with one SIGTERM to the runner and time for runs in progress, restarts on failure, and is confined as the bot is', () => {
    expect(runner('KillSignal')).toBe('SIGTERM');
    expect(runner('KillMode')).toBe('mixed');
    // Runs in progress get 10 s after SIGTERM.
    expect(seconds(runner('TimeoutStopSec'))).toBeGreaterThanOrEqual(15);
    expect(runner('Restart')).toBe('on-failure');
    const confinement = Object.keys(botUnit.Service ?? {}).filter((key) => HARDENING.test(key));
    expect(confinement.length).toBeGreaterThanOrEqual(5);
    for (const key of confinement) expect(runner(key), key).toBe(bot(key));
    // And other users' processes (the bot's) are hidden from it.
    expect(runner('ProtectProc')).toBe('invisible');
    expect(runnerUnit.Install?.WantedBy).toEqual(['multi-user.target']);
  });

  it('its install notes give runner.env Vigil variables only, never a Slack secret or the webhook token', () => {
    expect(NOTED_ENV).toEqual(expect.arrayContaining(['VIGIL_CONFIG', 'DATABASE_URL', 'REDIS_URL']));
    for (const name of [...NOTED_ENV, ...Object.keys(UNIT_ENV)]) expect(name, 'a secret the runner must not hold').not.toMatch(SLACK_OR_WEBHOOK);
    for (const name of NOTED_ENV) expect(VIGIL_ENV, `${name} is not a variable Vigil reads`).toContain(name);
    // And they name each secret the runner warns about, to leave out.
    const never = /\bNever ([^:.]+)/.exec(UNIT_TEXT.replace(/\n#\s*/g, ' '))?.[1] ?? '';
    for (const name of NOT_FOR_THE_RUNNER) expect(never.split(/,\s*|\s+or\s+/)).toContain(name);
  });

  it('performed: its ExecStart, as its own non-root user with the noted env, says it is ready and exits 0 on KillSignal; it names a Slack secret added, and refuses an in-process config', async () => {
    ensureBuilt();
    db = await createTestDatabase('runner_unit');
    // /etc/vigil: readable by every user; the state directory: the user's own (StateDirectoryMode).
    const etc = mkdtempSync(join(tmpdir(), 'vigil-etc-'));
    const state = mkdtempSync(join(tmpdir(), 'vigil-runner-state-'));
    dirs.push(etc, state);
    chmodSync(etc, 0o755);
    chownSync(state, NOBODY, NOBODY);
    chmodSync(state, Number.parseInt(runner('StateDirectoryMode') || '0700', 8));
    const configPath = join(etc, 'vigil.yaml');
    const config = {
      state: { queuePrefix: prefixes.state },
      bullmq: { prefix: prefixes.inspected },
      actions: { approvalChannel: 'C0RUNAPPROVE', runner: 'separate', catalog: { hello: { title: 'Say hello', risk: 'low', exec: ['echo', 'hello'], approvers: { users: ['U0BOSS'] } } } },
    };
    writeFileSync(configPath, toYaml(config), { mode: 0o644 });
    // runner.env as the notes fill it, for this machine's test services.
    const values: Record<string, string> = {
      VIGIL_CONFIG: configPath,
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      ALERTMANAGER_URL: 'http://127.0.0.1:9',
      VIGIL_AUDIT_KEY: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'info',
    };
    const runnerEnv = Object.fromEntries(NOTED_ENV.map((name) => [name, values[name] ?? '']));
    for (const [name, value] of Object.entries(runnerEnv)) expect(value, `a test value for ${name}`).not.toBe('');
    const [, script = '', ...words] = runner('ExecStart').split(/\s+/);
    const installRoot = /^(.*)\/dist\//.exec(script)?.[1] ?? '';
    const local = join(REPO_ROOT, posix.relative(installRoot, script));

    /** ExecStart as systemd runs it, until ready; then KillSignal, and how it ended within TimeoutStopSec. */
    const perform = async (extra: Record<string, string>): Promise<{ output: string; uid: number; listening: number; exit: ProcessExit | null }> => {
      const proc = spawn(process.execPath, [local, ...words], {
        cwd: state,
        uid: NOBODY,
        gid: NOBODY,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...UNIT_ENV, ...runnerEnv, ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      let output = '';
      for (const stream of [proc.stdout, proc.stderr]) stream.on('data', (d: Buffer) => (output += d.toString()));
      // 'close': exited, and its output read to the end.
      const exited = new Promise<ProcessExit>((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));
      await waitFor(() => output.includes('Runner: ready') || proc.exitCode !== null, { timeoutMs: 30_000, what: 'the runner to start' });
      expect(output, 'ready').toContain('Runner: ready');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${proc.pid ?? 0}/status`, 'utf8'))?.[1]);
      const listening = listeningSockets(proc.pid ?? 0);
      process.kill(proc.pid ?? 0, runner('KillSignal') as NodeJS.Signals);
      const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), seconds(runner('TimeoutStopSec')) * 1000).unref());
      const exit = await Promise.race([exited, timeout]);
      return { output, uid, listening, exit };
    };

    const noted = await perform({});
    expect(noted.uid).toBe(NOBODY);
    // No HTTP server (nothing for a /healthz check to reach): systemd watches the process.
    expect(noted.listening).toBe(0);
    expect(noted.exit, noted.output).toEqual({ code: 0, signal: null });
    expect(noted.output).toContain('SIGTERM: stopping');
    expect(noted.output).not.toContain('which the runner does not use');
    // The bot's vigil.env copied in, which the notes forbid: it runs, and says to remove them.
    const slack = await perform({ SLACK_BOT_TOKEN: `xoxb-${randomBytes(8).toString('hex')}`, SLACK_SIGNING_SECRET: randomBytes(16).toString('hex'), ALERT_WEBHOOK_TOKEN: randomBytes(24).toString('hex') });
    expect(slack.output).toContain('SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, ALERT_WEBHOOK_TOKEN are set here, which the runner does not use');
    expect(slack.exit, slack.output).toEqual({ code: 0, signal: null });

    // The example config as shipped (what compose mounts by default) runs actions in-process: refused, saying why.
    const refused = spawnSync(process.execPath, [local, ...words], {
      cwd: state,
      uid: NOBODY,
      gid: NOBODY,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...UNIT_ENV, ...runnerEnv, VIGIL_CONFIG: join(REPO_ROOT, 'manifests', 'vigil.example.yaml') },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(refused.status, refused.stdout + refused.stderr).toBe(EXIT.CONFIG);
    expect(refused.stderr).toContain('set actions.runner: separate');
  }, 120_000);

  it('passes systemd-analyze verify without a warning', () => {
    const verify = spawnSync('systemd-analyze', ['verify', join(REPO_ROOT, UNIT_FILE)], { encoding: 'utf8' });
    if (verify.error) return; // systemd not installed: checked by parsing only
    expect(verify.status).toBe(0);
    expect((verify.stdout + verify.stderr).split('\n').filter((l) => l.includes(posix.basename(UNIT_FILE)))).toEqual([]);
  });
});
