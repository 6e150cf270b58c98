/**
 * `vigil --help` lists every subcommand the CLI accepts. "Accepts" is taken from where the CLI
 * really dispatches, not from the help: the slash commands a real CLI container binds (what the
 * dispatcher runs), the CLI tool table (what the router runs), and every word the entry points
 * compare the command line with.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allCommands } from '../../commands/index.ts';
import { CLI_TOOLS } from '../../src/cli/tools.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createContainer } from '../../src/container.ts';
import { EXIT, EXIT_CODES } from '../../src/core/exit-codes.ts';
import { createLogger } from '../../src/log.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { REPO_ROOT, ensureBuilt, runNode } from '../support/run-process.ts';

const CLI = ['src/bin/vigil.mjs'];
const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-help-'));
const configPath = join(dir, 'vigil.yaml');
writeFileSync(configPath, `bullmq:\n  prefix: ${uniqueName('help')}\n`);
/** The slash commands the CLI's dispatcher runs: those a real CLI container binds, with the real services. */
async function dispatchedCommandNames(): Promise<string[]> {
  const config = loadConfig(services, REPO_ROOT);
  const container = await createContainer(config, { log: createLogger('silent'), announce: () => undefined, embedded: false, role: 'cli' });
  try {
    return container.features.flatMap((f) => f.commands ?? []).map((c) => c.name);
  } finally {
    await container.close();
  }
}

/**
 * Words the entry points compare the command line with directly (`process.argv[2] === '--version'`,
 * `name === 'help'`): a route added beside the tables must still show up in the help.
 */
function wordsComparedInEntryPoints(): string[] {
  const sources = ['src/bin/vigil.mjs', 'src/cli.ts', 'src/cli/route.ts'].map((f) => readFileSync(join(REPO_ROOT, f), 'utf8'));
  const compared = /(?:argv\[\d+\]|\bname|\bfirst|\bsecond|\bword)\s*===\s*'([^']+)'/g;
  return [...new Set(sources.flatMap((s) => [...s.matchAll(compared)].map((m) => m[1] ?? '')))];
}

let help: { code: number | null; stdout: string; stderr: string };
// A database of its own: a CLI run migrates Vigil's schema into the database it is given.
let db: TestDatabase;
let services: Record<string, string>;
beforeAll(async () => {
  db = await createTestDatabase('cli_help');
  services = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, VIGIL_CONFIG: configPath };
  ensureBuilt();
  // No env at all: the help needs no configuration and no services.
  help = await runNode(CLI, {});
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db?.drop();
});

describe('vigil --help', () => {
  it('exits 0 and lists, as `vigil <name>`, every slash command the CLI dispatches (the registry the router uses is the same list)', async () => {
    expect([help.code, help.stderr]).toEqual([EXIT.OK, '']);
    const dispatched = await dispatchedCommandNames();
    // The router knows commands by the registry (commands/index.ts), the dispatcher by the features' bindings.
    expect(dispatched).toEqual(allCommands.map((c) => c.name));
    for (const name of dispatched) expect(help.stdout, name).toMatch(new RegExp(`^  vigil ${name}( |$)`, 'm'));
  });

  it('lists every CLI tool the router runs, each of which answers its own --help', async () => {
    for (const tool of CLI_TOOLS) {
      expect(help.stdout).toMatch(new RegExp(`^  vigil ${tool.words.join(' ')}( |$)`, 'm'));
      const usage = await runNode([...CLI, ...tool.words, '--help'], {});
      expect([usage.code, usage.stdout]).toEqual([EXIT.OK, expect.stringContaining(`usage: ${tool.usage}`)]);
    }
  });

  it('lists every word the entry points route on directly (--version, -v, help), and --version works', async () => {
    const words = wordsComparedInEntryPoints();
    expect(words).toEqual(expect.arrayContaining(['--version', '-v', 'help']));
    for (const word of words) expect(help.stdout, word).toMatch(new RegExp(`(^|[ ,])${word.replace(/[-]/g, '\\-')}([ ,]|$)`, 'm'));
    const version = await runNode([...CLI, '--version'], {});
    expect(version.code).toBe(EXIT.OK);
    expect(version.stdout).toMatch(/^vigil \d+\.\d+\.\d+\n$/);
  });

  it('lists every exit code', () => {
    for (const { code } of EXIT_CODES) expect(help.stdout).toMatch(new RegExp(`^  ${code} +\\S`, 'm'));
  });

  it('`vigil help`, `vigil -h` and `vigil` alone print the same; `--json` gives it as data', async () => {
    for (const args of [['help'], ['-h'], []]) expect((await runNode([...CLI, ...args], {})).stdout).toBe(help.stdout);
    const json = await runNode([...CLI, '--help', '--json'], {});
    const data = JSON.parse(json.stdout) as { commands: { usage: string }[]; tools: { usage: string }[] };
    expect(data.commands.map((c) => c.usage.split(' ')[1])).toEqual(allCommands.map((c) => c.name));
    expect(data.tools.map((t) => t.usage)).toEqual(CLI_TOOLS.map((t) => t.usage));
  });

  it('works with a broken configuration; an unknown command exits 64 with the same list, before reading it', async () => {
    const broken = { VIGIL_CONFIG: join(dir, 'missing.yaml'), PORT: 'abc' };
    const withBroken = await runNode([...CLI, '--help'], broken);
    expect([withBroken.code, withBroken.stdout]).toEqual([EXIT.OK, help.stdout]);
    const unknown = await runNode([...CLI, 'nope'], broken);
    expect(unknown.code).toBe(EXIT.USAGE);
    expect(unknown.stdout).toContain('Unknown command "nope".');
    expect(unknown.stdout).toContain('vigil audit verify');
  });

  it('a command’s own --help still comes from the dispatcher; a tool given stray arguments exits 64', async () => {
    const usage = await runNode([...CLI, 'slowqueries', '--help'], services);
    expect([usage.code, usage.stdout]).toEqual([EXIT.OK, expect.stringContaining('/slowqueries [--by total|mean|calls]')]);
    const stray = await runNode([...CLI, 'migrate', '--dry-run'], services);
    expect([stray.code, stray.stderr]).toEqual([EXIT.USAGE, expect.stringContaining('vigil migrate: takes no arguments')]);
  });
});
