/**
 * The shell on a real terminal: Vigil runs under `script` (util-linux), which gives it a
 * pseudo-terminal, and the test types into it key by key and reads back what a person would see.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/core/redact.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { descendantsOf, REPO_ROOT } from '../support/run-process.ts';

const KEYS = { tab: '\t', enter: '\r', ctrlC: '\x03', ctrlD: '\x04', up: '\x1b[A' };
const dir = mkdtempSync(join(tmpdir(), 'vigil-tty-'));
const config = join(dir, 'vigil.yaml');
// Prefixes and a database of its own, never the shared defaults: another suite may run on the same servers.
writeFileSync(config, `bullmq:\n  prefix: ${uniqueName('tty')}\nstate:\n  queuePrefix: ${uniqueName('tty_own')}\n`);
let db: TestDatabase;
const tsx = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const running: ChildProcess[] = [];

afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
beforeAll(async () => {
  db = await createTestDatabase('tty');
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db?.drop();
});

/**
 * What a terminal shows for `raw`: the rows after carriage returns, newlines and the few control
 * sequences readline sends (CSI n G column, A/B/C/D moves, J and K erase). No wrapping: under
 * `script` without a terminal of its own the pty has no width, so readline never wraps.
 */
function screen(raw: string): string[] {
  const rows: string[][] = [[]];
  let r = 0;
  let c = 0;
  const row = (): string[] => (rows[r] ??= []);
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] ?? '';
    if (ch === '\r') c = 0;
    else if (ch === '\n') r++;
    else if (ch === '\b') c = Math.max(0, c - 1);
    else if (ch === '\x1b') {
      const seq = /^\x1b\[([\d;?]*)([A-Za-z])/.exec(raw.slice(i));
      if (!seq) continue;
      i += seq[0].length - 1;
      const n = Number(seq[1] || '0');
      const code = seq[2];
      if (code === 'G') c = Math.max(1, n) - 1;
      else if (code === 'A') r = Math.max(0, r - Math.max(1, n));
      else if (code === 'B') r += Math.max(1, n);
      else if (code === 'C') c += Math.max(1, n);
      else if (code === 'D') c = Math.max(0, c - Math.max(1, n));
      else if (code === 'J' || code === 'K') {
        row().length = Math.min(row().length, c);
        if (code === 'J') rows.length = r + 1;
      }
    } else row()[c++] = ch;
  }
  return Array.from(rows, (cells) => Array.from(cells ?? [], (cell) => cell ?? ' ').join(''));
}

/** Vigil in shell mode on a pseudo-terminal, in `dir` (its data dir is `dir/.vigil`). */
function startOnTerminal() {
  const command = `exec "${process.execPath}" --import ${tsx} ${join(REPO_ROOT, 'src', 'main.ts')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: dir, TERM: 'xterm', DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, VIGIL_CONFIG: config, PORT: '0' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.push(child);
  let raw = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (raw += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (raw += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const term = {
    raw: () => raw,
    rows: () => screen(raw),
    /** The row the cursor would be on: the last one. */
    lastRow: () => screen(raw).at(-1) ?? '',
    type: (keys: string) => void child.stdin.write(keys),
    /** Wait until the screen satisfies `check` (the terminal is redrawn asynchronously). */
    async until(check: (rows: string[]) => boolean, what: string, timeoutMs = 15_000): Promise<string[]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const rows = screen(raw);
        if (check(rows)) return rows;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`terminal never showed ${what}; it shows:\n${rows.join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /** Vigil itself (script's child), to signal it. */
    vigilPid(): number {
      const node = descendantsOf(child.pid ?? -1).find((p) => p.command.includes('src/main.ts'));
      if (!node) throw new Error('Vigil is not running under script');
      return node.pid;
    },
    exited,
    /** script exits with its child's status (-e). */
    exitWithin: (ms: number) => Promise.race([exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms))]),
  };
  return term;
}

const prompt = (typed: string) => (rows: string[]) => rows.at(-1) === `vigil> ${typed}`;

describe('the shell on a terminal', () => {
  it('`script` (util-linux) is installed: these tests need a pseudo-terminal', () => {
    expect(spawnSync('script', ['--version'], { encoding: 'utf8' }).stdout).toMatch(/util-linux/);
  });

  it('start-up lines read as plain lines; Tab completes commands, flags and values; Ctrl-C clears the line and Vigil stays; Ctrl-D exits 0 and keeps history', async () => {
    const term = startOnTerminal();
    const rows = await term.until(prompt(''), 'the prompt', 60_000);
    // On a terminal the start-up lines are the messages alone, as they always were.
    expect(rows).toContain(`Postgres: DATABASE_URL ${redactUrl(db.url)}`);
    expect(rows).toContainEqual(expect.stringMatching(/^Slack: not configured, shell mode/));
    expect(term.raw()).not.toContain('{"level"');

    term.type(`/hea${KEYS.tab}`);
    await term.until(prompt('/health '), 'the completed /health');
    term.type(KEYS.enter);
    await term.until((r) => r.some((row) => /^\[(ok|WARN|FAIL)\] Health:/.test(row)) && r.at(-1) === 'vigil> ', 'the /health answer and a new prompt');

    term.type(`/slowqueries --b${KEYS.tab}`);
    await term.until(prompt('/slowqueries --by '), 'the completed --by flag');
    term.type(`m${KEYS.tab}`);
    await term.until(prompt('/slowqueries --by mean '), 'the completed value mean');

    // Ctrl-C: the typed line ends with ^C, a fresh prompt follows, Vigil keeps running.
    term.type(KEYS.ctrlC);
    const afterCtrlC = await term.until((r) => r.at(-2) === 'vigil> /slowqueries --by mean ^C' && r.at(-1) === 'vigil> ', 'the line dropped');
    expect(afterCtrlC.join('\n')).not.toMatch(/stopping/);
    term.type(KEYS.ctrlC);
    await term.until((r) => r.at(-2) === '(To leave, type exit or press Ctrl-D.)' && r.at(-1) === 'vigil> ', 'the hint on how to leave');
    expect(await term.exitWithin(300)).toBe('still running');

    term.type(`/vigil help${KEYS.enter}`);
    await term.until((r) => r.some((row) => row.includes('/slowqueries [--by total|mean|calls]')) && r.at(-1) === 'vigil> ', 'the help answer');
    term.type(KEYS.ctrlD);
    expect(await term.exitWithin(20_000)).toBe(0);

    const historyPath = join(dir, '.vigil', 'shell-history');
    expect(readFileSync(historyPath, 'utf8')).toBe('/health\n/vigil help\n');
    expect(statSync(historyPath).mode & 0o777).toBe(0o600);

    // The next run starts with that history: up-arrow brings back the newest line, then the one before.
    const again = startOnTerminal();
    await again.until(prompt(''), 'the prompt', 60_000);
    again.type(KEYS.up);
    await again.until(prompt('/vigil help'), 'the last line of the previous run');
    again.type(KEYS.up);
    await again.until(prompt('/health'), 'the line before it');
    again.type(`${KEYS.enter}exit${KEYS.enter}`);
    expect(await again.exitWithin(20_000)).toBe(0);
    expect(readFileSync(historyPath, 'utf8')).toBe('/vigil help\n/health\nexit\n');
  }, 120_000);

  it('a line logged while someone types goes above the prompt, which comes back with the typed text', async () => {
    const term = startOnTerminal();
    await term.until(prompt(''), 'the prompt', 60_000);
    term.type('/que');
    await term.until(prompt('/que'), 'the typed text');
    // SIGTERM makes Vigil log its stopping line at once, in the middle of the typing.
    process.kill(term.vigilPid(), 'SIGTERM');
    const rows = await term.until((r) => r.some((row) => row.startsWith('SIGTERM: stopping')), 'the stopping line');
    const at = rows.findIndex((row) => row.startsWith('SIGTERM: stopping'));
    expect(rows[at - 1]).not.toMatch(/^vigil> \/que/); // the old prompt was wiped, not left half-typed above the line
    expect(rows.slice(at + 1)).toContain('vigil> /que'); // and redrawn below it, with what was typed
    expect(rows.join('\n')).not.toMatch(/vigil> \/que.*SIGTERM/);
    expect(await term.exitWithin(20_000)).toBe(0);
  }, 90_000);
});
