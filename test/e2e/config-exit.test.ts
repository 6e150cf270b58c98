/**
 * A bad configuration exits 78 (EX_CONFIG), from the CLI and from the bot alike, never 1: a cron
 * job reads 1 as "degraded". Each case runs the real processes: `vigil` as `npx vigil` runs it
 * and the compiled bot as `npm start` runs it (`node dist/main.js`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/core/exit-codes.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/env.ts';
import { DIST_MAIN, REPO_ROOT, ensureBuilt, runNode, type ProcessRun } from '../support/run-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-config-exit-'));
const services = { DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL };

/** `vigil health` and the bot, with the same env and working directory. */
async function both(env: Record<string, string>, cwd = REPO_ROOT): Promise<{ cli: ProcessRun; bot: ProcessRun }> {
  const [cli, bot] = await Promise.all([
    runNode([join(REPO_ROOT, 'src', 'bin', 'vigil.mjs'), 'health'], env, '', { cwd }),
    runNode([DIST_MAIN], { ...env, PORT: env.PORT ?? '0' }, '', { cwd }),
  ]);
  return { cli, bot };
}

/** Exit 78, every expected name on stderr, nothing on stdout (no answer, no start-up line), no secret anywhere. */
function expectConfigExit(run: ProcessRun, names: string[], secrets: string[] = []): void {
  expect(run.code, run.stderr).toBe(EXIT.CONFIG);
  expect(run.stderr).toMatch(/^Invalid configuration:\n/);
  for (const name of names) expect(run.stderr).toContain(name);
  expect(run.stdout).toBe('');
  for (const secret of secrets) expect(run.stdout + run.stderr).not.toContain(secret);
}

beforeAll(() => ensureBuilt());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a bad configuration exits 78, CLI and bot alike', () => {
  it('a YAML value the schema rejects, and an unknown key: both named', async () => {
    const path = join(dir, 'bad-values.yaml');
    writeFileSync(path, 'probes:\n  timeoutMs: -5\nbullmq:\n  prefx: typo\n');
    const { cli, bot } = await both({ ...services, VIGIL_CONFIG: path });
    for (const run of [cli, bot]) expectConfigExit(run, [`${path}: probes.timeoutMs`, 'bullmq', 'prefx']);
  });

  it('a file that is not YAML', async () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'bullmq: [unclosed\n');
    const { cli, bot } = await both({ ...services, VIGIL_CONFIG: path });
    for (const run of [cli, bot]) expectConfigExit(run, [`${path}: not valid YAML`]);
  });

  it('env values the schema rejects (PORT=abc, LOG_LEVEL=loud, a token of the wrong kind), naming each and printing no value', async () => {
    const { cli, bot } = await both({ ...services, PORT: 'abc', LOG_LEVEL: 'loud', SLACK_BOT_TOKEN: 'xoxp-sekrit-4242', DATABASE_URL: 'mysql://root:pa55word@db/x' });
    for (const run of [cli, bot]) expectConfigExit(run, ['env PORT', 'env LOG_LEVEL', 'env SLACK_BOT_TOKEN', 'env DATABASE_URL'], ['sekrit', 'pa55word', 'loud']);
  });

  it('VIGIL_CONFIG naming a file that is not there, or one that cannot be read', async () => {
    const missing = await both({ ...services, VIGIL_CONFIG: join(dir, 'nope.yaml') });
    for (const run of [missing.cli, missing.bot]) expectConfigExit(run, [`VIGIL_CONFIG: file not found: ${join(dir, 'nope.yaml')}`]);
    // A directory cannot be read even by root (a permission bit would not stop root, who runs CI here).
    const unreadable = join(dir, 'a-directory.yaml');
    mkdirSync(unreadable);
    const { cli, bot } = await both({ ...services, VIGIL_CONFIG: unreadable });
    for (const run of [cli, bot]) expectConfigExit(run, [`VIGIL_CONFIG: ${unreadable} cannot be read (EISDIR)`]);
  });

  it('a .env in the working directory that exists but cannot be read, or has a malformed line', async () => {
    const unreadable = join(dir, 'env-unreadable');
    mkdirSync(join(unreadable, '.env'), { recursive: true });
    const first = await both(services, unreadable);
    for (const run of [first.cli, first.bot]) expectConfigExit(run, [`${join(unreadable, '.env')}: cannot be read (EISDIR)`]);

    const malformed = join(dir, 'env-malformed');
    mkdirSync(malformed);
    writeFileSync(join(malformed, '.env'), 'SLACK_SIGNING_SECRET oops-no-equals-sign-s3cr3t\n');
    const second = await both(services, malformed);
    for (const run of [second.cli, second.bot]) expectConfigExit(run, [`${join(malformed, '.env')} line 1: expected KEY=VALUE`], ['s3cr3t']);
  });
});
