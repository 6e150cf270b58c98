import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/env.ts';

const root = new URL('../..', import.meta.url).pathname;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a real Vigil process the way a person would, with only the env given (plus PATH). */
function run(args: string[], env: Record<string, string>, input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

const services = { DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL };
const main = ['--import', 'tsx', 'src/main.ts'];
const cli = ['src/bin/vigil.mjs'];

describe('terminal front doors', () => {
  it('npm start without Slack tokens opens the shell, prints one line per dependency, answers commands', async () => {
    const out = await run(main, { ...services, PORT: '0' }, '/health\nqueue\n/vigil help\n/nope\nexit\n');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^Slack: not configured, shell mode/m);
    expect(out.stdout).toMatch(/^Postgres: DATABASE_URL postgres:\/\/postgres@127\.0\.0\.1:5432\/test/m);
    expect(out.stdout).toMatch(/^Redis: REDIS_URL redis:\/\/127\.0\.0\.1:6379/m);
    expect(out.stdout).toMatch(/\[(ok|WARN)\] Health: (healthy|degraded)/);
    expect(out.stdout).toContain('Queues');
    expect(out.stdout).toContain('/slowqueries [--by total|mean|calls]');
    expect(out.stdout).toContain('Unknown command "nope"');
  });

  it('the CLI prints JSON on stdout and exits by status; bad usage exits 64', async () => {
    const health = await run([...cli, 'health', '--json'], services);
    expect(health.code).toBe(0);
    const snapshot = JSON.parse(health.stdout) as { status: string; checks: { name: string; status: string }[] };
    expect(snapshot.status).toBe('ok');
    expect(snapshot.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['Postgres', 'Redis']));

    const bad = await run([...cli, 'slowqueries', '--by', 'nope'], services);
    expect(bad.code).toBe(64);
    expect(bad.stdout).toContain('--by: must be one of total, mean, calls');
  });

  it('the CLI exits 2 and names what is down when Redis is unreachable, without hanging', async () => {
    const down = await run([...cli, 'health'], { ...services, REDIS_URL: 'redis://:sup3rsecret@127.0.0.1:1' });
    expect(down.code).toBe(2);
    expect(down.stdout).toMatch(/\[FAIL\] Health: unhealthy/);
    expect(down.stdout).toContain('Redis');
    expect(down.stdout + down.stderr).not.toContain('sup3rsecret');
  });

  it('a bad configuration exits 1 listing every problem and no secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-badcfg-'));
    writeFileSync(join(dir, 'vigil.yaml'), 'probes:\n  timeoutMs: -5\n');
    const out = await run(main, {
      SLACK_BOT_TOKEN: 'xoxp-secret1',
      DATABASE_URL: 'mysql://root:pa55word@db/x',
      PORT: 'http',
      VIGIL_CONFIG: join(dir, 'vigil.yaml'),
    });
    expect(out.code).toBe(1);
    for (const key of ['SLACK_BOT_TOKEN', 'DATABASE_URL', 'PORT', 'probes.timeoutMs']) expect(out.stderr).toContain(key);
    expect(out.stdout + out.stderr).not.toMatch(/secret1|pa55word/);
  });
});
