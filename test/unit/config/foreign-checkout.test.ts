import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { foreignCheckoutProblem } from '../../../src/config/foreign-checkout.mjs';

const dirs: string[] = [];
const dir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'vigil-owner-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('root in someone else’s checkout', () => {
  it('is refused, naming the owner and how to run it as them', () => {
    const theirs = dir();
    // A uid with no passwd entry: the message falls back to the number.
    chownSync(theirs, 4242, 4242);
    const problem = foreignCheckoutProblem([dir(), theirs], 0);
    expect(problem).toContain(`Vigil will not run as root in ${theirs}: it belongs to uid 4242`);
    expect(problem).toContain('setpriv --reuid 4242 --regid 4242 --init-groups npm start');
  });

  it('names a user that has a login name', () => {
    const theirs = dir();
    chownSync(theirs, 65534, 65534); // nobody, in every Debian passwd
    expect(foreignCheckoutProblem([theirs], 0)).toMatch(/belongs to nobody \(uid 65534\)[\s\S]*sudo -u nobody npm start/);
  });

  it('lets root run in its own directories, and anyone else anywhere', () => {
    const theirs = dir();
    chownSync(theirs, 4242, 4242);
    expect(foreignCheckoutProblem([dir()], 0)).toBeNull();
    expect(foreignCheckoutProblem([theirs], 4242)).toBeNull();
    expect(foreignCheckoutProblem([theirs], 1000)).toBeNull();
    expect(foreignCheckoutProblem([join(theirs, 'missing')], 0)).toBeNull();
  });
});
