/**
 * Root in an ordinary user's directory: files Vigil writes there (.vigil/ with the embedded
 * PostgreSQL, owned by `postgres`) would leave that user unable to start Vigil or delete them, so
 * the bot and the CLI refuse before writing anything and say how to run it instead.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIST_MAIN, REPO_ROOT, ensureBuilt } from '../support/run-process.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Run `node <args>` in `cwd` with nothing configured; its exit code and stderr. */
function runIn(cwd: string, args: string[]): { code: number; stderr: string } {
  try {
    execFileSync(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? '', PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { status: number | null; stderr: Buffer };
    return { code: e.status ?? -1, stderr: e.stderr.toString() };
  }
}

describe.runIf(process.getuid?.() === 0)('run as root in a directory another user owns', () => {
  it('the bot and the CLI refuse, name the owner and how to run it as them, and write nothing', () => {
    ensureBuilt();
    const theirs = mkdtempSync(join(tmpdir(), 'vigil-theirs-'));
    dirs.push(theirs);
    chownSync(theirs, 65534, 65534); // nobody

    for (const args of [[DIST_MAIN], [join(REPO_ROOT, 'src', 'bin', 'vigil.mjs'), 'health']]) {
      const { code, stderr } = runIn(theirs, args);
      expect(code).toBe(1);
      expect(stderr).toContain(`Vigil will not run as root in ${theirs}: it belongs to nobody (uid 65534)`);
      expect(stderr).toContain('sudo -u nobody npm start');
    }
    expect(readdirSync(theirs)).toEqual([]);
  });

  it('building in a checkout another user owns is refused before dist/ (or the build lock) is written', () => {
    const checkout = mkdtempSync(join(tmpdir(), 'vigil-their-checkout-'));
    dirs.push(checkout);
    for (const entry of ['src', 'commands', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) cpSync(join(REPO_ROOT, entry), join(checkout, entry), { recursive: true });
    execFileSync('chown', ['-R', '65534:65534', checkout]);

    for (const args of [['src/bin/build.mjs', '--if-stale'], ['src/bin/build.mjs'], ['src/bin/vigil.mjs', 'health']]) {
      const { code, stderr } = runIn(checkout, args);
      expect(code, args.join(' ')).toBe(1);
      expect(stderr).toContain(`Vigil will not run as root in ${checkout}: it belongs to nobody (uid 65534)`);
    }
    expect(existsSync(join(checkout, 'dist'))).toBe(false);
    expect(existsSync(join(checkout, '.build'))).toBe(false);
  });
});
