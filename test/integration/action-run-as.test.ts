/**
 * Exec actions and Vigil's secrets: when Vigil runs as root, an action's child runs as
 * `actions.runAs` (default nobody) and cannot read Vigil's environment from /proc, the way the
 * issue's `tr "\0" "\n" < /proc/$PPID/environ` did.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actionsConfigSchema } from '../../src/actions/catalog-config.ts';
import { createRunner, type RunnerDeps } from '../../src/actions/runners/index.ts';
import { resolveRunAs } from '../../src/actions/runners/run-as.ts';

const ctx = () => ({ signal: new AbortController().signal, requestedBy: 'alice' });
const runnerFor = (exec: string[]) => {
  const parsed = actionsConfigSchema.parse({ approvalChannel: 'C0APPROVALS', catalog: { peek: { title: 'Peek', risk: 'high', exec, approvers: { users: ['U0BOSS'] } } } });
  const spec = parsed.catalog.peek?.runner;
  if (!spec) throw new Error('no runner');
  return spec;
};
const baseDeps: RunnerDeps = { bullmq: null, alertmanagerUrl: null, db: null, env: { PATH: process.env.PATH, HOME: '/root' } };

describe('who an exec action runs as', () => {
  it("cannot read Vigil's environment through /proc when Vigil is root; runs as Vigil's own user otherwise", async () => {
    const execAs = resolveRunAs('nobody');
    const root = process.getuid?.() === 0;
    expect('runAs' in execAs && execAs.runAs !== null).toBe(root);
    const deps = { ...baseDeps, execAs };
    const who = await createRunner(runnerFor(['id', '-u']), deps)({}, ctx());
    expect(who.output.trim()).toBe(root && 'runAs' in execAs && execAs.runAs ? String(execAs.runAs.uid) : String(process.getuid?.()));
    const peek = await createRunner(runnerFor(['cat', `/proc/${process.pid}/environ`]), deps)({}, ctx());
    if (root) {
      expect(peek.ok).toBe(false);
      expect(peek.output).toMatch(/Permission denied/);
    } else {
      // Only root can switch users; without it, privilege separation is the separate runner's job.
      expect(peek.ok).toBe(true);
    }
  });

  it('runs as root only when told to (runAs: root), and refuses to run when the user does not exist', async () => {
    const asRoot = resolveRunAs('root', 0);
    expect(asRoot).toEqual({ runAs: null });
    const dir = mkdtempSync(join(tmpdir(), 'vigil-passwd-'));
    const passwd = join(dir, 'passwd');
    writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
    expect(resolveRunAs('nobody', 0, passwd)).toEqual({ runAs: { user: 'nobody', uid: 65534, gid: 65534 } });
    expect(resolveRunAs('nobody', 1000, passwd)).toEqual({ runAs: null });
    const missing = resolveRunAs('vigil-runner', 0, passwd);
    expect(missing).toEqual({ error: `actions.runAs: there is no user "vigil-runner" in ${passwd}; exec actions are refused rather than run as root` });
    const refused = await createRunner(runnerFor(['id', '-u']), { ...baseDeps, execAs: missing })({}, ctx());
    expect(refused).toMatchObject({ ok: false, summary: `Refused: actions.runAs: there is no user "vigil-runner" in ${passwd}; exec actions are refused rather than run as root. Nothing ran.` });
  });
});

describe("Vigil's own secrets in what an action prints", () => {
  it('are masked raw, URL-encoded and base64-encoded, and so are database URL passwords', async () => {
    const signing = 'sig+secret/with=chars-1234567890';
    const env = { ...baseDeps.env, SLACK_SIGNING_SECRET: signing, ALERT_WEBHOOK_TOKEN: 'webhook-token-abcdef', DATABASE_URL: 'postgres://vigil:db%2Fpass-xyz@db:5432/app' };
    const b64 = Buffer.from(signing).toString('base64');
    const printed = [signing, encodeURIComponent(signing), b64, b64.replace(/=+$/, ''), Buffer.from(signing).toString('base64url'), 'webhook-token-abcdef', 'db/pass-xyz', 'db%2Fpass-xyz'];
    const outcome = await createRunner(runnerFor(['printf', '%s\\n', ...printed]), { ...baseDeps, env })({}, ctx());
    expect(outcome.output.split('\n').filter(Boolean)).toEqual(printed.map(() => '***'));
    expect(JSON.stringify(outcome)).not.toContain('pass-xyz');
  });
});
