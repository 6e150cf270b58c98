/**
 * The embedded PostgreSQL and redis-server, through real processes: the bot (`node dist/main.js`,
 * shell mode, nothing configured) in a temp directory, killed with -9 and started again, and the
 * CLI (`node src/bin/vigil.mjs`, as `npx vigil` runs it) with no DATABASE_URL or REDIS_URL.
 *
 * One directory, used in order, because initdb and bot starts cost seconds. Processes are counted
 * from /proc by that directory only (the postmaster's command line holds it; redis-server rewrites
 * its command line, so its working directory tells), never touching anyone else's.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST_MAIN, REPO_ROOT, ensureBuilt, runNode, startLive, type LiveProcess, type ProcessRun } from '../support/run-process.ts';

const CLI = join(REPO_ROOT, 'src', 'bin', 'vigil.mjs');
/** Start-up lines are bare on a terminal and pino JSON elsewhere (as here): match the message either way. */
const HTTP_LINE = /(?:^|"msg":")HTTP: .* on port (\d+)/;
let cwd: string;
const started: LiveProcess[] = [];

/** Only what a bare cron job has: no DATABASE_URL, no REDIS_URL, no Slack. */
function bareEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PORT: '0', LOG_LEVEL: 'warn' };
}

/** The messages of a process's output lines, bare or JSON. */
function messages(lines: string[]): string[] {
  return lines.map((line) => {
    try {
      const parsed = JSON.parse(line) as { msg?: unknown };
      return typeof parsed.msg === 'string' ? parsed.msg : line;
    } catch {
      return line;
    }
  });
}

function startBot(): LiveProcess {
  const bot = startLive(process.execPath, [DIST_MAIN], { cwd, env: bareEnv() });
  started.push(bot);
  return bot;
}

/** `npx vigil …` in the temp directory. */
function cli(args: string[]): Promise<ProcessRun> {
  return runNode([CLI, ...args], bareEnv(), '', { cwd, timeoutMs: 90_000 });
}

interface Servers {
  postmasters: number[];
  redis: number[];
}

/** The postmasters and redis-servers serving this directory's .vigil, from /proc. */
function servers(): Servers {
  const pgDir = join(cwd, '.vigil', 'pg');
  const redisDir = join(cwd, '.vigil', 'redis');
  const found: Servers = { postmasters: [], redis: [] };
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm === 'postgres' && args.includes(pgDir)) found.postmasters.push(pid);
      if (comm === 'redis-server' && readlinkSync(`/proc/${pid}/cwd`) === redisDir) found.redis.push(pid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(servers())}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(() => {
  ensureBuilt();
  cwd = mkdtempSync(join(tmpdir(), 'vigil-children-'));
  chmodSync(cwd, 0o755); // as root, the postgres OS user must reach .vigil
});

afterAll(() => {
  for (const p of started) p.kill();
  // Whatever a failed run left: only this directory's servers.
  for (const pid of [...servers().postmasters, ...servers().redis]) process.kill(pid, 'SIGKILL');
  rmSync(cwd, { recursive: true, force: true });
});

describe('embedded children', () => {
  it('the CLI (health, audit verify) with nothing configured and no bot says so and exits 3, creating nothing', async () => {
    const run = await cli(['health', '--json']);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`vigil: nothing to check: DATABASE_URL and REDIS_URL are not set, and there is no running Vigil bot in ${cwd}`);
    expect(run.stderr).toContain('npm start');
    // The audit tools would read an empty trail from a fresh database just the same.
    expect((await cli(['audit', 'verify'])).code).toBe(3);
    expect(readdirSync(cwd)).toEqual([]); // no .vigil: no fresh empty database was made to check
    expect(servers()).toEqual({ postmasters: [], redis: [] });
  }, 60_000);

  it(
    'borrows the bot\'s servers for 20 concurrent `vigil health`; after kill -9 the next bot stops the leftovers; a second bot is refused; SIGTERM leaves nothing',
    async () => {
      // 1. The bot owns one postmaster and one redis-server.
      const first = startBot();
      await first.line(HTTP_LINE, 90_000);
      const owned = servers();
      expect(owned.postmasters).toHaveLength(1);
      expect(owned.redis).toHaveLength(1);

      // 2. Twenty CLI calls at once, all borrowing them: twenty healthy answers, servers untouched.
      const runs = await Promise.all(Array.from({ length: 20 }, () => cli(['health', '--json'])));
      const answers = runs.map((r) => ({ code: r.code, status: (JSON.parse(r.stdout || '{}') as { status?: string }).status ?? r.stderr }));
      expect(answers).toEqual(Array.from({ length: 20 }, () => ({ code: 0, status: 'ok' })));
      expect(servers()).toEqual(owned);

      // 3. kill -9: nothing of Vigil's runs to stop them, so both servers outlive it...
      first.child.kill('SIGKILL');
      await first.exited;
      await new Promise((r) => setTimeout(r, 500));
      expect(servers()).toEqual(owned);
      // ...the CLI does not adopt them...
      const orphaned = await cli(['health']);
      expect(orphaned.code).toBe(3);
      expect(orphaned.stderr).toContain('has exited');
      expect(servers()).toEqual(owned);

      // 4. ...and the next bot stops them (saying so) before starting its own: one of each again.
      const second = startBot();
      await second.line(HTTP_LINE, 60_000);
      expect(messages(second.stdout)).toContainEqual(expect.stringMatching(new RegExp(`^Postgres: stopped the embedded PostgreSQL .* left running by Vigil pid ${first.pid}, .*server pid ${owned.postmasters[0]}\\)`)));
      expect(messages(second.stdout)).toContainEqual(expect.stringMatching(new RegExp(`^Redis: stopped the embedded Redis .* left running by Vigil pid ${first.pid}, .*server pid ${owned.redis[0]}\\)`)));
      const fresh = servers();
      expect(fresh.postmasters).toHaveLength(1);
      expect(fresh.redis).toHaveLength(1);
      expect(fresh.postmasters[0]).not.toBe(owned.postmasters[0]);
      expect(fresh.redis[0]).not.toBe(owned.redis[0]);
      expect((await cli(['health'])).code).toBe(0);
      const verify = await cli(['audit', 'verify']);
      expect(verify.code, verify.stderr).toBe(0);

      // 5. A second bot on the same directory is refused, and leaves the first one's servers alone.
      const intruder = startBot();
      expect(await intruder.exitWithin(30_000)).toEqual({ code: 1, signal: null });
      expect(messages(intruder.stderr).join('\n')).toContain(`belongs to another running Vigil (pid ${second.pid}). Only one Vigil bot may run per directory`);
      expect(servers()).toEqual(fresh);

      // 6. A clean stop stops both and drops the records: nothing left, and the CLI has nothing to borrow.
      process.kill(second.pid, 'SIGTERM');
      expect(await second.exitWithin(30_000)).toEqual({ code: 0, signal: null });
      await until('no servers', () => servers().postmasters.length === 0 && servers().redis.length === 0, 5_000);
      expect(existsSync(join(cwd, '.vigil', 'pg.owner.json'))).toBe(false);
      expect(existsSync(join(cwd, '.vigil', 'redis', 'owner.json'))).toBe(false);
      expect((await cli(['health'])).code).toBe(3);
    },
    240_000,
  );
});
