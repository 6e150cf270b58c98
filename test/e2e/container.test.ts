/**
 * The image and the process-manager units, tested without a Docker daemon (none runs here).
 *
 * Dockerfile: its instructions are parsed and performed on the host, stage by stage, each stage in
 * a directory of its own standing in for its filesystem: the build context as .dockerignore leaves
 * it, COPY, the RUN steps (npm for real, with the npm cache; mkdir/chown/chmod for real under the
 * stage's root; useradd written to a copy of /etc/passwd that the image's processes see in a mount
 * namespace of their own, so the host's users stay as they are), ENV, WORKDIR, USER, then CMD
 * started as the image's uid with the image's env and stdin at EOF, as a container without a
 * terminal has it; the CLI runs beside it as `docker exec` would run it. A wrong CMD path, a root USER, a missing HOST, a dev-only dependency
 * the bot needs at run time, a broken HEALTHCHECK: each fails here.
 *
 * Not run here: the base image (node:20-bookworm-slim: its Node and npm versions, its filesystem),
 * BuildKit's cache mounts, `docker build`/`docker run` themselves, and the compose stack's
 * postgres, redis and alertmanager images. docker-compose.yml and deploy/vigil.service are parsed
 * and checked against what Vigil reads (the vigil-runner service too); the Alertmanager config
 * goes through amtool and the unit through `systemd-analyze verify` when those are installed.
 * deploy/vigil-runner.service and deploy/k8s have files of their own (deploy-runner, deploy-k8s).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envSchema } from '../../src/config/env.ts';
import { loadConfig } from '../../src/config/load.ts';
import { freePort } from '../../src/embedded/free-port.ts';
import { SLACK_OR_WEBHOOK, VIGIL_ENV, cliToolOf, isCompiledCli, parseUnit, seconds } from '../support/deploy-files.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { adminQuery, createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { REPO_ROOT, descendantsOf, stillRunning, type ProcessExit, type ProcessId } from '../support/run-process.ts';
import { startSlackApiServer, type SlackApiServer } from '../support/slack-api-server.ts';
import { waitFor } from '../support/wait.ts';

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

// ---------------------------------------------------------------------------------------------
// Dockerfile: parsed into stages of instructions

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

/** Instructions in order: continuation lines joined, comments and blank lines dropped. */
function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full === '') continue;
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/s.exec(full) ?? [];
    out.push({ keyword: keyword.toUpperCase(), args });
  }
  return out;
}

/** `${NAME}` and `$NAME` from `vars`; unknown names become empty, as Docker does. */
function substitute(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => vars[a ?? b ?? ''] ?? '');
}

/** Words split on whitespace, double- or single-quoted parts kept whole (quotes dropped). */
function words(text: string): string[] {
  return [...text.matchAll(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g)].map((m) => m[0].replace(/"([^"]*)"|'([^']*)'/g, '$1$2'));
}

/** Leading `--flag=value` options of an instruction, and the rest. */
function flags(args: string): { flags: Record<string, string>; rest: string } {
  const found: Record<string, string> = {};
  let rest = args.trim();
  for (let m = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest); m; m = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest)) {
    found[m[1] ?? ''] = m[2] ?? '';
    rest = rest.slice(m[0].length);
  }
  return { flags: found, rest };
}

function parseDockerfile(text: string): Stage[] {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of parseInstructions(text)) {
    if (ins.keyword === 'FROM') {
      const [base = '', as, name] = words(substitute(ins.args, globalArgs));
      stages.push({ name: as?.toUpperCase() === 'AS' && name ? name : String(stages.length), base, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`Dockerfile: ${ins.keyword} before the first FROM`);
      const [name = '', value = ''] = ins.args.split('=');
      globalArgs[name.trim()] = value.trim();
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return stages;
}

/** CMD/ENTRYPOINT/HEALTHCHECK in exec form (a JSON array), or null for the shell form. */
function execForm(args: string): string[] | null {
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? (parsed as string[]) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// .dockerignore: which files of the repository are the build context

/** A .dockerignore pattern as a regular expression over a slash-separated relative path. */
function ignoreRegex(pattern: string): RegExp {
  const body = posix
    .normalize(pattern.replace(/^\/+/, ''))
    .split(/(\*\*\/?|\*|\?|[.+^$()[\]{}|\\])/)
    .map((part) => ({ '**/': '(?:.*/)?', '**': '.*', '*': '[^/]*', '?': '[^/]' })[part] ?? part.replace(/[.+^$()[\]{}|\\]/g, '\\$&'))
    .join('');
  return new RegExp(`^${body}$`);
}

/** Docker's rule: the last pattern matching the path or one of its parent directories decides. */
function contextFilter(dockerignore: string): (path: string) => boolean {
  const rules = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => ({ include: l.startsWith('!'), regex: ignoreRegex(l.replace(/^!/, '')) }));
  return (path) => {
    const parts = path.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let included = true;
    for (const rule of rules) if (candidates.some((c) => rule.regex.test(c))) included = rule.include;
    return included;
  };
}

/** Copy the repository into `to` as Docker would send it as the build context. */
function copyBuildContext(to: string): string[] {
  const keep = contextFilter(existsSync(join(REPO_ROOT, '.dockerignore')) ? read('.dockerignore') : '');
  const copied: string[] = [];
  const visit = (rel: string): void => {
    for (const entry of readdirSync(join(REPO_ROOT, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      // .git and node_modules are never wanted, and walking them would cost seconds.
      if (path === '.git' || entry.name === 'node_modules') continue;
      if (entry.isDirectory()) visit(path);
      else if (keep(path)) {
        mkdirSync(dirname(join(to, path)), { recursive: true });
        cpSync(join(REPO_ROOT, path), join(to, path), { preserveTimestamps: true });
        copied.push(path);
      }
    }
  };
  visit('');
  return copied;
}

// ---------------------------------------------------------------------------------------------
// Performing a stage on the host

interface BuiltStage {
  name: string;
  /** Stands in for the stage's `/`. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  /** USER, as numbers (a name is looked up among the users the stage's useradd created). */
  user: { uid: number; gid: number } | null;
  users: Map<string, { uid: number; gid: number; home: string; shell: string }>;
  cmd: string[] | null;
  entrypoint: string[];
  /** The HEALTHCHECK's command (the shell form as `/bin/sh -c`). */
  healthcheck: string[] | null;
  /** What `docker stop` sends (STOPSIGNAL; SIGTERM by default). */
  stopSignal: NodeJS.Signals;
}

/** The host path standing for `path` (absolute, or relative to the stage's WORKDIR). */
function hostPath(stage: BuiltStage, path: string): string {
  const inImage = posix.resolve(stage.workdir, path);
  return join(stage.root, inImage);
}

/** `--name value` and `--name=value` options; a flag followed by another option (or nothing) is ''. */
function longOptions(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(args[i] ?? '');
    if (!m) continue;
    const next = args[i + 1];
    out[m[1] ?? ''] = m[2] ?? (next !== undefined && !next.startsWith('-') ? (i++, next) : '');
  }
  return out;
}

function runStep(stage: BuiltStage, command: string[]): void {
  const [program = '', ...args] = command;
  const cwd = hostPath(stage, '.');
  if (program === 'npm') {
    if (args[0] === 'cache') throw new Error('npm cache … in a RUN: the test would empty the host cache; use a cache mount');
    // The image's env applies (NODE_ENV among it); the host's cache, preferred over the network, keeps it quick.
    const env = { ...stage.env, PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' };
    const run = spawnSync('npm', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (run.status !== 0) throw new Error(`RUN npm ${args.join(' ')} failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    return;
  }
  if (program === 'useradd') {
    // Recorded, not performed: the uid is what counts, and the host's /etc/passwd stays untouched.
    const name = args.at(-1) ?? '';
    const options = longOptions(args.slice(0, -1));
    if (!options.uid) throw new Error(`useradd ${name} without --uid: USER cannot be checked to be non-root`);
    const uid = Number(options.uid);
    stage.users.set(name, { uid, gid: Number(options.gid || uid), home: options['home-dir'] || `/home/${name}`, shell: options.shell || '/bin/sh' });
    return;
  }
  if (['mkdir', 'chown', 'chmod'].includes(program)) {
    // Paths inside the image map under the stage's root; options, and chown's owner or chmod's mode
    // (their first operand), stay as they are.
    let operandSeen = program === 'mkdir';
    const mapped = args.map((arg) => {
      if (arg.startsWith('-')) return arg;
      if (operandSeen) return hostPath(stage, arg);
      operandSeen = true;
      return arg;
    });
    execFileSync(program, mapped, { cwd });
    return;
  }
  throw new Error(`RUN ${command.join(' ')}: container.test.ts does not know how to perform this on the host; teach it, or keep the Dockerfile to npm, mkdir, chown, chmod, useradd`);
}

function performStage(source: Stage, root: string, context: string, built: Map<string, BuiltStage>): BuiltStage {
  const stage: BuiltStage = { name: source.name, root, workdir: '/', env: {}, user: null, users: new Map(), cmd: null, entrypoint: [], healthcheck: null, stopSignal: 'SIGTERM' };
  mkdirSync(root, { recursive: true });
  for (const { keyword, args } of source.instructions) {
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, substitute(args, stage.env));
        mkdirSync(hostPath(stage, '.'), { recursive: true });
        break;
      case 'ENV': {
        const parts = words(args);
        if (parts.length === 2 && !parts[0]?.includes('=')) stage.env[parts[0] ?? ''] = parts[1] ?? '';
        else for (const part of parts) stage.env[part.slice(0, part.indexOf('='))] = substitute(part.slice(part.indexOf('=') + 1), stage.env);
        break;
      }
      case 'COPY': {
        const { flags: opts, rest } = flags(args);
        const paths = execForm(rest) ?? words(substitute(rest, stage.env));
        const dest = paths.pop() ?? '';
        const from = opts.from === undefined ? null : built.get(opts.from);
        if (opts.from !== undefined && !from) throw new Error(`COPY --from=${opts.from}: no such stage before this one`);
        for (const src of paths) {
          const origin = from ? hostPath(from, src) : join(context, src);
          if (!existsSync(origin)) throw new Error(`COPY ${src}: not in ${from ? `stage ${from.name}` : 'the build context (see .dockerignore)'}`);
          const target = hostPath(stage, dest);
          const intoDir = dest.endsWith('/') || paths.length > 1 || statSync(origin).isDirectory();
          mkdirSync(intoDir ? target : dirname(target), { recursive: true });
          cpSync(origin, statSync(origin).isDirectory() ? target : intoDir ? join(target, posix.basename(src)) : target, { recursive: true, preserveTimestamps: true });
        }
        break;
      }
      case 'RUN': {
        // --mount=type=cache and the like: a build-time cache, nothing to do on the host.
        const { rest } = flags(args);
        if (stage.user) throw new Error('RUN after USER: not performed by this test (it runs RUN steps as root)');
        for (const step of rest.split('&&')) runStep(stage, words(step));
        break;
      }
      case 'USER': {
        const [name = '', group] = substitute(args, stage.env).split(':');
        const uid = /^\d+$/.test(name) ? Number(name) : stage.users.get(name)?.uid;
        if (uid === undefined) throw new Error(`USER ${name}: neither a uid nor a user this stage created`);
        stage.user = { uid, gid: group && /^\d+$/.test(group) ? Number(group) : uid };
        break;
      }
      case 'CMD':
      case 'ENTRYPOINT': {
        const form = execForm(args);
        // The shell form runs `/bin/sh -c`, which becomes PID 1 and does not pass SIGTERM on.
        if (!form) throw new Error(`${keyword} ${args}: use the exec form (a JSON array) so signals reach node`);
        if (keyword === 'CMD') stage.cmd = form;
        else stage.entrypoint = form;
        break;
      }
      case 'HEALTHCHECK': {
        const m = /^CMD\s+(.*)$/s.exec(flags(args).rest);
        if (!m) throw new Error(`HEALTHCHECK ${args}: expected CMD …`);
        stage.healthcheck = execForm(m[1] ?? '') ?? ['/bin/sh', '-c', m[1] ?? ''];
        break;
      }
      case 'STOPSIGNAL':
        stage.stopSignal = args.trim() as NodeJS.Signals;
        break;
      case 'ARG':
      case 'EXPOSE':
      case 'LABEL':
        break;
      default:
        throw new Error(`Dockerfile ${keyword}: not performed by container.test.ts; teach it`);
    }
  }
  return stage;
}

// ---------------------------------------------------------------------------------------------
// The image, performed

const DOCKERFILE = read('Dockerfile');
const stages = parseDockerfile(DOCKERFILE);
const work = mkdtempSync(join(tmpdir(), 'vigil-image-'));
// mkdtemp makes it 0700: the image's uid has to reach the app inside.
chmodSync(work, 0o755);
const prefixes = { inspected: uniqueName('ctr'), state: uniqueName('ctr_state') };
const SIGNING_SECRET = randomBytes(16).toString('hex');
let runtime: BuiltStage;
let context: string[] = [];
let db: TestDatabase;
let slackApi: SlackApiServer;
const children: ChildProcess[] = [];

beforeAll(async () => {
  [db, slackApi] = await Promise.all([createTestDatabase('container'), startSlackApiServer()]);
  const contextDir = join(work, 'context');
  context = copyBuildContext(contextDir);
  const built = new Map<string, BuiltStage>();
  for (const [i, stage] of stages.entries()) {
    const done = performStage(stage, join(work, `stage-${i}-${stage.name}`), contextDir, built);
    built.set(stage.name, done);
    runtime = done;
  }
}, 300_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  for (const prefix of Object.values(prefixes)) await deleteKeysUnder(redis, prefix);
  redis.disconnect();
  await Promise.all([slackApi?.close(), db?.drop()]);
  rmSync(work, { recursive: true, force: true });
});

/** The container's environment: the image's ENV, then what `docker run -e` would add. */
function containerEnv(port: number, configPath: string): Record<string, string> {
  const home = runtime.users.get([...runtime.users.keys()][0] ?? '')?.home;
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home ? hostPath(runtime, home) : '/nonexistent',
    ...runtime.env,
    PORT: String(port),
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    VIGIL_CONFIG: configPath,
    SLACK_BOT_TOKEN: `xoxb${'-ctr-'}${randomBytes(6).toString('hex')}`,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: `${slackApi.url}/api/`,
  };
}

/**
 * The host's /etc/passwd and /etc/group plus the users the image's useradd created, written once;
 * null where no private mount namespace can be made (then the uid runs without a name).
 */
let imageAccounts: { passwd: string; group: string } | null | undefined;
function accountFiles(): { passwd: string; group: string } | null {
  if (imageAccounts !== undefined) return imageAccounts;
  const users = [...runtime.users].map(([name, u]) => ({ name, ...u }));
  const passwd = join(work, 'passwd');
  const group = join(work, 'group');
  writeFileSync(passwd, readFileSync('/etc/passwd', 'utf8') + users.map((u) => `${u.name}:x:${u.uid}:${u.gid}::${u.home}:${u.shell}\n`).join(''), { mode: 0o644 });
  writeFileSync(group, readFileSync('/etc/group', 'utf8') + users.map((u) => `${u.name}:x:${u.gid}:\n`).join(''), { mode: 0o644 });
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'mount', '--bind', passwd, '/etc/passwd']);
  imageAccounts = probe.status === 0 ? { passwd, group } : null;
  return imageAccounts;
}

/**
 * `argv` as the image's USER: what `docker run` (or a HEALTHCHECK, or `docker exec`) executes. Each
 * step execs the next (unshare, sh, setpriv, node), so the pid spawned is node's.
 */
function asImageUser(argv: string[]): { command: string; args: string[] } {
  const user = runtime.user ?? { uid: 0, gid: 0 };
  // `node` from the image's PATH is this Node here.
  const [program = '', ...rest] = argv;
  const resolved = program === 'node' ? process.execPath : program;
  const setpriv = ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', resolved, ...rest];
  const accounts = accountFiles();
  if (!accounts) return { command: setpriv[0] ?? '', args: setpriv.slice(1) };
  const bind = 'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group && shift 2 && exec "$@"';
  return { command: 'unshare', args: ['--mount', '--propagation', 'private', '--', 'sh', '-c', bind, 'sh', accounts.passwd, accounts.group, ...setpriv] };
}

function uidsOf(pid: number): number[] {
  const line = /^Uid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
  return line.split(/\s+/).map(Number);
}

describe('Dockerfile', () => {
  it('has a build stage with dev dependencies and a runtime stage with production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const [build] = stages;
    const steps = (s: Stage | undefined): string => (s?.instructions ?? []).filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
    expect(steps(build)).toMatch(/npm ci(?![^\n]*--omit=dev)/);
    expect(steps(build)).toContain('npm run build');
    expect(steps(stages.at(-1))).toMatch(/npm ci [^\n]*--omit=dev/);
    expect(steps(stages.at(-1))).not.toContain('npm run build');
    // Same Node major as package.json's engines and as the Node these tests run on.
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    for (const stage of stages) {
      const major = Number(/^node:(\d+)/.exec(stage.base)?.[1]);
      expect(major, stage.base).toBeGreaterThanOrEqual(Number(/\d+/.exec(engines)?.[0]));
      expect(major, stage.base).toBe(Number(process.versions.node.split('.')[0]));
    }
    // The context holds what the build needs and nothing a host should keep to itself.
    expect(context).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src/main.ts']));
    for (const path of context) expect(path, 'in the build context').not.toMatch(/^(\.env$|\.vigil\/|dist\/|node_modules\/|\.git\/|\.build\/)/);
  });

  it('the runtime holds dist/ and production dependencies, no compiler or test runner, and is not writable by its user', () => {
    const app = hostPath(runtime, '.');
    expect(existsSync(join(app, 'dist', 'main.js'))).toBe(true);
    const { dependencies } = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    for (const name of Object.keys(dependencies)) expect(existsSync(join(app, 'node_modules', name)), name).toBe(true);
    for (const dev of ['typescript', 'vitest']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(app, 'src')), 'sources in the runtime image').toBe(false);
    const user = runtime.user;
    expect(user, 'USER in the runtime stage').not.toBeNull();
    expect(user?.uid, 'USER must not be root').not.toBe(0);
    expect(statSync(app).uid).not.toBe(user?.uid);
    // Its one writable place: .vigil/ in the working directory (the audit spool).
    expect(statSync(join(app, '.vigil')).uid).toBe(user?.uid);
  });

  it('starts as a non-root user with the image env, serves /healthz on HOST, passes its HEALTHCHECK, and exits 0 on SIGTERM leaving nothing behind', async () => {
    const argv = [...runtime.entrypoint, ...(runtime.cmd ?? [])];
    // node itself is PID 1's program: npm or a shell in between would not pass SIGTERM on.
    expect(argv[0]).toBe('node');
    expect(runtime.env.HOST, 'HOST in the image: a container is reached from outside').toBe('0.0.0.0');
    expect(runtime.healthcheck?.join(' ')).toContain('/healthz');

    const port = await freePort();
    const configPath = join(work, 'vigil.yaml');
    writeFileSync(configPath, `bullmq: { prefix: ${prefixes.inspected} }\nstate: { queuePrefix: ${prefixes.state} }\n`, { mode: 0o644 });
    const env = containerEnv(port, configPath);
    const { command, args } = asImageUser(argv);
    // stdin at EOF, as `docker run` without -i gives it.
    const child = spawn(command, args, { cwd: hostPath(runtime, '.'), env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<ProcessExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const pid = child.pid ?? -1;

    const healthz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status ?? 0;
    await waitFor(async () => (await healthz()) === 200 || child.exitCode !== null, { timeoutMs: 45_000, intervalMs: 200, what: '/healthz' });
    expect(child.exitCode, `exited before serving /healthz:\n${output}`).toBeNull();
    await waitFor(() => output.includes('Vigil is ready.'), { timeoutMs: 10_000, what: `"Vigil is ready." in:\n${output}` });
    expect(output).toContain(`on port ${port}, 0.0.0.0 (HOST)`);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    // setpriv execs node: the pid signalled below is node's, running as the image's uid.
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe(process.execPath);
    expect(uidsOf(pid)).toEqual(Array(4).fill(runtime.user?.uid));

    const healthcheck = (): number | null => {
      const hc = asImageUser(runtime.healthcheck ?? []);
      return spawnSync(hc.command, hc.args, { cwd: hostPath(runtime, '.'), env, timeout: 10_000 }).status;
    };
    expect(healthcheck(), 'HEALTHCHECK while Vigil runs').toBe(0);

    // `docker compose exec vigil node dist/src/cli.js health`: the CLI beside the bot, same user and env.
    if (accountFiles()) {
      const cli = asImageUser(['node', 'dist/src/cli.js', 'health', '--json']);
      const health = spawnSync(cli.command, cli.args, { cwd: hostPath(runtime, '.'), env, encoding: 'utf8', timeout: 20_000 });
      expect(health.status, health.stderr).toBe(0);
      expect((JSON.parse(health.stdout) as { status: string }).status).toBe('ok');
    }

    const tree: ProcessId[] = descendantsOf(pid);
    // `docker stop`: the image's STOPSIGNAL, then (compose: stop_grace_period) SIGKILL.
    process.kill(pid, runtime.stopSignal);
    const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000).unref());
    expect(await Promise.race([exited, timeout]), output).toEqual({ code: 0, signal: null });
    expect(output).toContain(`${runtime.stopSignal}: stopping`);
    expect(tree.filter(stillRunning)).toEqual([]);
    // The check does look: with Vigil gone it fails.
    expect(healthcheck(), 'HEALTHCHECK with Vigil stopped').not.toBe(0);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$. */
function interpolate(value: unknown, env: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  if (typeof value !== 'string') return value;
  return value.replace(/\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}/g, (whole, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (whole === '$$') return '$';
    const v = env[name ?? ''];
    const missing = op?.startsWith(':') ? !v : v === undefined;
    if (op?.endsWith('?') && missing) throw new Error(`${name}: ${arg}`);
    if (op?.endsWith('-') && missing) return arg ?? '';
    return v ?? '';
  });
}

interface ComposeService {
  build?: string | { context: string };
  image?: string;
  pull_policy?: string;
  profiles?: string[];
  init?: boolean;
  restart?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  secrets?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  stop_grace_period?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
}
interface Compose {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { environment?: string; file?: string }>;
}

const COMPOSE_RAW = parseYaml(read('docker-compose.yml')) as unknown;
/** What a filled-in .env gives compose. */
const DOT_ENV = {
  SLACK_BOT_TOKEN: `xoxb${'-compose-'}${randomBytes(6).toString('hex')}`,
  SLACK_SIGNING_SECRET: randomBytes(16).toString('hex'),
  ALERT_WEBHOOK_TOKEN: randomBytes(24).toString('hex'),
  POSTGRES_PASSWORD: 'Secret42',
};

describe('docker-compose.yml', () => {
  const compose = interpolate(COMPOSE_RAW, DOT_ENV) as Compose;
  const { vigil, postgres, redis, alertmanager, 'vigil-runner': runner } = compose.services;
  const vigilEnv = vigil?.environment ?? {};

  it('refuses to start without Slack or the webhook token (a container has no terminal for the shell)', () => {
    for (const key of ['SLACK_BOT_TOKEN', 'ALERT_WEBHOOK_TOKEN'] as const) {
      const partial: Record<string, string> = { ...DOT_ENV };
      delete partial[key];
      expect(() => interpolate(COMPOSE_RAW, partial), key).toThrow(key);
    }
  });

  it('runs vigil, postgres with pg_stat_statements preloaded, redis and alertmanager (and vigil-runner, behind a profile)', async () => {
    expect(Object.keys(compose.services).sort()).toEqual(['alertmanager', 'postgres', 'redis', 'vigil', 'vigil-runner']);
    // `docker compose up` without a profile starts the same four as before.
    const byDefault = Object.entries(compose.services).filter(([, s]) => !s.profiles?.length).map(([name]) => name);
    expect(byDefault.sort()).toEqual(['alertmanager', 'postgres', 'redis', 'vigil']);
    const cmd = postgres?.command ?? [];
    const settings = cmd.flatMap((arg, i) => (cmd[i - 1] === '-c' ? [arg] : []));
    expect(settings).toContainEqual(expect.stringMatching(/^shared_preload_libraries=.*\bpg_stat_statements\b/));
    // The init script creates the extension in the database; it runs on a real PostgreSQL here.
    const init = (postgres?.volumes ?? []).find((v) => v.split(':')[1]?.startsWith('/docker-entrypoint-initdb.d/'));
    expect(init).toBeDefined();
    const scratch = await createTestDatabase('compose_init');
    try {
      await adminQuery(readFileSync(join(REPO_ROOT, init?.split(':')[0] ?? ''), 'utf8'), scratch.name);
      const client = new pg.Client({ connectionString: scratch.url });
      await client.connect();
      const rows = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'").finally(() => client.end());
      expect(rows.rowCount).toBe(1);
    } finally {
      await scratch.drop();
    }
    expect(redis?.command?.join(' ')).toMatch(/--maxmemory-policy noeviction/);
  });

  it("vigil is built from this Dockerfile and its env is valid Vigil env pointing at the compose services", () => {
    expect(vigil?.build === '.' || (typeof vigil?.build === 'object' && vigil.build.context === '.')).toBe(true);
    const known = Object.keys(envSchema.shape);
    for (const key of Object.keys(vigilEnv)) expect(known, `${key} is not a variable Vigil reads`).toContain(key);
    expect(envSchema.safeParse(Object.fromEntries(Object.entries(vigilEnv).filter(([, v]) => v !== ''))).success).toBe(true);

    const database = new URL(vigilEnv.DATABASE_URL ?? '');
    const pgEnv = postgres?.environment ?? {};
    expect([database.hostname, database.port, database.username, database.password, database.pathname]).toEqual([
      'postgres',
      '5432',
      pgEnv.POSTGRES_USER,
      pgEnv.POSTGRES_PASSWORD,
      `/${pgEnv.POSTGRES_DB}`,
    ]);
    expect(new URL(vigilEnv.REDIS_URL ?? '').host).toBe('redis:6379');
    expect(new URL(vigilEnv.ALERTMANAGER_URL ?? '').host).toBe('alertmanager:9093');
  });

  it('vigil starts after healthy postgres and redis, runs under an init, gets time to drain, and keeps .vigil/ in a volume', () => {
    for (const dep of ['postgres', 'redis']) {
      expect(vigil?.depends_on?.[dep]?.condition, dep).toBe('service_healthy');
      expect(compose.services[dep]?.healthcheck?.test?.length, `${dep} healthcheck`).toBeGreaterThan(0);
    }
    // Its own health check is the image's HEALTHCHECK (on /healthz), unless compose overrides it.
    expect(vigil?.healthcheck?.test?.join(' ') ?? runtime.healthcheck?.join(' ')).toContain('/healthz');
    expect(vigil?.init).toBe(true);
    expect(seconds(vigil?.stop_grace_period ?? '10s')).toBeGreaterThanOrEqual(15);
    const targets = (vigil?.volumes ?? []).map((v) => v.split(':'));
    expect(targets.map(([, target]) => target)).toContain(posix.join(runtime.workdir, '.vigil'));
    // The published port is the one the image listens on.
    expect(vigil?.ports?.map((p) => p.split(':').at(-1))).toContain(runtime.env.PORT);
  });

  it('the config file it mounts is valid and Slack over HTTP is what the filled-in .env selects', () => {
    const mount = (vigil?.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === vigilEnv.VIGIL_CONFIG);
    expect(mount, 'a volume at VIGIL_CONFIG').toBeDefined();
    const config = loadConfig({ ...vigilEnv, VIGIL_CONFIG: join(REPO_ROOT, mount?.[0] ?? '') }, REPO_ROOT);
    expect(config.slack.kind).toBe('http');
  });

  it('alertmanager posts to vigil with the same token, and its config passes amtool', () => {
    const configMount = (alertmanager?.volumes ?? []).map((v) => v.split(':')).find(([, target]) => alertmanager?.command?.includes(`--config.file=${target}`));
    expect(configMount, 'the --config.file is mounted').toBeDefined();
    const hostFile = join(REPO_ROOT, configMount?.[0] ?? '');
    const am = parseYaml(readFileSync(hostFile, 'utf8')) as {
      route: { receiver: string };
      receivers: Array<{ name: string; webhook_configs?: Array<{ url: string; send_resolved?: boolean; max_alerts?: number; http_config?: { authorization?: { credentials_file?: string } } }> }>;
    };
    const receiver = am.receivers.find((r) => r.name === am.route.receiver);
    const hook = receiver?.webhook_configs?.[0];
    const url = new URL(hook?.url ?? '');
    expect([url.hostname, url.port, url.pathname]).toEqual(['vigil', runtime.env.PORT, '/alerts/alertmanager']);
    expect([hook?.send_resolved, hook?.max_alerts]).toEqual([true, 0]);
    // The bearer token: a compose secret made from the same variable Vigil's ALERT_WEBHOOK_TOKEN is.
    const secretFile = hook?.http_config?.authorization?.credentials_file ?? '';
    const secretName = posix.basename(secretFile);
    expect(posix.dirname(secretFile)).toBe('/run/secrets');
    expect(alertmanager?.secrets).toContain(secretName);
    const source = (COMPOSE_RAW as Compose).secrets?.[secretName]?.environment;
    expect((COMPOSE_RAW as Compose).services.vigil?.environment?.ALERT_WEBHOOK_TOKEN).toMatch(new RegExp(`^\\$\\{${source}[:?}]`));
    const amtool = spawnSync('amtool', ['check-config', hostFile], { encoding: 'utf8' });
    if (amtool.error) return; // amtool not installed: checked by shape only
    expect(amtool.status, amtool.stdout + amtool.stderr).toBe(0);
  });

  it("vigil-runner, behind the separate-runner profile, runs the runner tool from vigil's image, built once and never pulled", () => {
    expect(runner?.profiles).toEqual(['separate-runner']);
    expect(runner?.build, 'a second build of the same image').toBeUndefined();
    expect(runner?.image).toBe(vigil?.image);
    expect(runner?.pull_policy).toBe('never');
    const [program, script = '', ...words] = runner?.command ?? [];
    expect(program).toBe('node');
    // The script is in the image as performed above, and is the CLI; the words select `vigil runner`.
    expect(existsSync(hostPath(runtime, script)), `${script} in the image`).toBe(true);
    expect(isCompiledCli(script, runtime.workdir), script).toBe(true);
    expect(cliToolOf(words)?.usage, words.join(' ')).toBe('vigil runner');
    // No HTTP server: no ports, and the image's HEALTHCHECK (on /healthz) is switched off.
    expect(runtime.healthcheck?.join(' ')).toContain('/healthz');
    expect(runner?.healthcheck?.disable).toBe(true);
    expect(runner?.ports ?? []).toEqual([]);
  });

  it("vigil-runner's env is valid Vigil env without Slack's secrets or the webhook token, on vigil's database, Redis and config", () => {
    const runnerEnv = runner?.environment ?? {};
    for (const key of Object.keys(runnerEnv)) {
      expect(VIGIL_ENV, `${key} is not a variable Vigil reads`).toContain(key);
      expect(key, 'a secret the runner must not hold').not.toMatch(SLACK_OR_WEBHOOK);
    }
    expect(envSchema.safeParse(Object.fromEntries(Object.entries(runnerEnv).filter(([, v]) => v !== ''))).success).toBe(true);
    // The same state (actions queue, requests, outbox), the same Alertmanager, the same audit key.
    for (const key of ['DATABASE_URL', 'VIGIL_DATABASE_URL', 'REDIS_URL', 'ALERTMANAGER_URL', 'VIGIL_AUDIT_KEY', 'VIGIL_CONFIG']) expect(runnerEnv[key], key).toBe(vigilEnv[key]);
    expect(runnerEnv.DATABASE_URL).toBeDefined();
    expect(runnerEnv.REDIS_URL).toBeDefined();
    const configSource = (s: ComposeService | undefined): string | undefined => (s?.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === s?.environment?.VIGIL_CONFIG)?.[0];
    expect(configSource(runner), 'a volume at VIGIL_CONFIG').toBeDefined();
    expect(configSource(runner)).toBe(configSource(vigil));
    // It loads for the runner as for the bot, and without Slack.
    expect(loadConfig({ ...runnerEnv, VIGIL_CONFIG: join(REPO_ROOT, configSource(runner) ?? '') }, REPO_ROOT).slack.kind).toBe('none');
  });

  it('vigil-runner starts after healthy postgres and redis, under an init, with time for runs in progress, its own .vigil/ volume, locked down as vigil is', () => {
    for (const dep of ['postgres', 'redis']) expect(runner?.depends_on?.[dep]?.condition, dep).toBe('service_healthy');
    expect(runner?.init).toBe(true);
    expect(runner?.restart).toBe(vigil?.restart);
    // Runs in progress get 10 s after SIGTERM.
    expect(seconds(runner?.stop_grace_period ?? '10s')).toBeGreaterThanOrEqual(15);
    const spool = (s: ComposeService | undefined): string | undefined => (s?.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === posix.join(runtime.workdir, '.vigil'))?.[0];
    expect(spool(runner), 'a volume at .vigil/').toBeDefined();
    expect(spool(runner)).not.toBe(spool(vigil));
    expect(Object.keys((COMPOSE_RAW as Compose).volumes ?? {})).toContain(spool(runner));
    expect([runner?.read_only, runner?.cap_drop, runner?.security_opt]).toEqual([true, ['ALL'], ['no-new-privileges:true']]);
    expect([runner?.read_only, runner?.cap_drop, runner?.security_opt]).toEqual([vigil?.read_only, vigil?.cap_drop, vigil?.security_opt]);
  });
});

// ---------------------------------------------------------------------------------------------
// deploy/vigil.service

describe('deploy/vigil.service', () => {
  const unit = parseUnit(read('deploy/vigil.service'));
  const service = unit.Service ?? {};
  const one = (key: string): string => service[key]?.at(-1) ?? '';

  it('runs node on dist/main.js as a non-root user, stops it with one SIGTERM and time to drain, restarts it on failure', () => {
    const [program = '', script = '', ...extra] = one('ExecStart').split(/\s+/);
    expect(program).toMatch(/^\/\S*\/node$/);
    expect(posix.isAbsolute(script) ? script : posix.join(one('WorkingDirectory'), script)).toMatch(/\/dist\/main\.js$/);
    expect(extra).toEqual([]);
    expect(one('KillSignal')).toBe('SIGTERM');
    // mixed: the SIGTERM goes to Vigil alone, which stops the actions it started itself.
    expect(one('KillMode')).toBe('mixed');
    expect(seconds(one('TimeoutStopSec'))).toBeGreaterThanOrEqual(15);
    expect(one('User')).not.toMatch(/^(root|0|)$/);
    expect(one('Restart')).toBe('on-failure');
    // Vigil writes .vigil/ in its working directory: systemd creates that directory for the user.
    expect(one('WorkingDirectory')).toBe(`/var/lib/${one('StateDirectory')}`);
    expect(unit.Install?.WantedBy).toEqual(['multi-user.target']);
  });

  it('passes systemd-analyze verify without a warning', () => {
    const verify = spawnSync('systemd-analyze', ['verify', join(REPO_ROOT, 'deploy', 'vigil.service')], { encoding: 'utf8' });
    if (verify.error) return; // systemd not installed: checked by parsing only
    expect(verify.status).toBe(0);
    expect((verify.stdout + verify.stderr).split('\n').filter((l) => l.includes('vigil.service'))).toEqual([]);
  });
});
