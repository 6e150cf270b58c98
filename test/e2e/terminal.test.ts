import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { redactUrl } from '../../src/core/redact.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { REPO_ROOT, runNode } from '../support/run-process.ts';



const main = ['--import', 'tsx', 'src/main.ts'];

/** Start-up lines on a pipe are JSON log lines: their messages, and every line that is not one. */
function splitLogLines(stdout: string): { messages: string[]; rest: string } {
  const messages: string[] = [];
  const rest: string[] = [];
  for (const line of stdout.split('\n')) {
    const entry = /^\{"level":/.test(line) ? (JSON.parse(line) as { level: number; time: number; msg: string }) : null;
    if (entry) expect(entry).toEqual({ level: 30, time: expect.any(Number), msg: expect.any(String) });
    if (entry) messages.push(entry.msg);
    else rest.push(line);
  }
  return { messages, rest: rest.join('\n') };
}
const cli = ['src/bin/vigil.mjs'];

// Each run sees only BullMQ queues under a prefix of its own: one with a job waiting past its
// threshold (so the answers are known in advance), one with none at all. Vigil's own keys
// (state.queuePrefix) and its state (schema vigil, the audit trail) are this file's own too,
// never the shared defaults: another suite may run on the same servers.
const dir = mkdtempSync(join(tmpdir(), 'vigil-terminal-'));
const busyPrefix = uniqueName('term');
const ownPrefix = uniqueName('term_own');
const QUEUE = 'shellq';
const busyConfig = join(dir, 'busy.yaml');
const quietConfig = join(dir, 'quiet.yaml');
writeFileSync(busyConfig, `bullmq:\n  prefix: ${busyPrefix}\n  thresholds: { waiting: 1, failed: 1 }\nstate:\n  queuePrefix: ${ownPrefix}\n`);
writeFileSync(quietConfig, `bullmq:\n  prefix: ${uniqueName('term')}\nstate:\n  queuePrefix: ${ownPrefix}\n`);
let db: TestDatabase;
let services: { DATABASE_URL: string; REDIS_URL: string; VIGIL_CONFIG: string };
let redis: Redis;

beforeAll(async () => {
  db = await createTestDatabase('terminal');
  services = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, VIGIL_CONFIG: quietConfig };
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE, { connection: redis, prefix: busyPrefix });
  await queue.add('job', {});
  await queue.close();
});

afterAll(async () => {
  await deleteKeysUnder(redis, busyPrefix);
  redis.disconnect();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('terminal front doors', () => {
  it('npm start without Slack tokens opens the shell, logs one JSON line per dependency, answers commands with no prompt', async () => {
    const out = await runNode(main, { ...services, VIGIL_CONFIG: busyConfig, PORT: '0' }, '/health\n/vigil help\n/nope\nexit\n');
    expect(out.code).toBe(0);
    const { messages, rest } = splitLogLines(out.stdout);
    expect(messages).toContainEqual(expect.stringMatching(/^Slack: not configured, shell mode/));
    expect(messages).toContain(`Postgres: DATABASE_URL ${redactUrl(db.url)}`);
    expect(messages).toContainEqual(expect.stringMatching(/^State: schema vigil in the inspected database/));
    expect(messages).toContain(`Redis: REDIS_URL ${redactUrl(TEST_REDIS_URL)}`);
    // stdin is a pipe: answers only, no prompt, no banner, no echo of the lines read.
    expect(rest).not.toContain('vigil>');
    expect(rest).not.toContain('Vigil shell.');
    expect(rest).not.toContain('/nope');
    expect(rest).toMatch(/^\[WARN\] Health: degraded/);
    expect(out.stdout).toContain('[WARN] Health: degraded');
    expect(out.stdout).toMatch(new RegExp(`${QUEUE} +1 waiting`));
    expect(out.stdout).toContain('/slowqueries [--by total|mean|calls]');
    expect(out.stdout).toContain('Unknown command "nope"');
  });

  it('without Slack and with stdin at /dev/null (in the background, a service) it says why it stops, then stops, exit 0', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...services, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
    });
    expect(run.status).toBe(0);
    expect(run.stdout.toString()).toMatch(/Shell: not opened, stdin is \/dev\/null \(nobody can type\); stopping\. To run without a terminal, configure Slack/);
  });

  it('the shell numbers a reply’s choices, and typing a number presses one', async () => {
    const out = await runNode(main, { ...services, VIGIL_CONFIG: busyConfig, PORT: '0' }, `/queue\n7\n1\nexit\n`);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`choices (type the number):\n  1) Inspect ${QUEUE}: /queue ${QUEUE}`);
    // Pressing 1 ran `/queue shellq` through the interaction handler: the queue's own page.
    expect(out.stdout).toContain(`[WARN] Queue ${QUEUE}`);
    expect(out.stdout).toContain('Oldest waiting');
    expect(out.stdout).toContain('No choice 7: pick 1 to 1.');
  });

  it('the CLI prints JSON on stdout and exits by status; bad usage exits 64', async () => {
    const health = await runNode([...cli, 'health', '--json'], services);
    expect(health.code).toBe(0);
    const snapshot = JSON.parse(health.stdout) as { status: string; checks: { name: string; status: string }[] };
    expect(snapshot.status).toBe('ok');
    expect(snapshot.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['Postgres', 'Redis']));

    const bad = await runNode([...cli, 'slowqueries', '--by', 'nope'], services);
    expect(bad.code).toBe(64);
    expect(bad.stdout).toContain('--by: must be one of total, mean, calls');
  });

  it('the CLI exits 2 and names what is down when Redis is unreachable, without hanging', async () => {
    const down = await runNode([...cli, 'health'], { ...services, REDIS_URL: 'redis://:sup3rsecret@127.0.0.1:1' });
    expect(down.code).toBe(2);
    expect(down.stdout).toMatch(/\[FAIL\] Health: unhealthy/);
    expect(down.stdout).toContain('Redis');
    expect(down.stdout + down.stderr).not.toContain('sup3rsecret');
  });

  it('a bad configuration exits 78 (EX_CONFIG, not 1: "degraded") listing every problem and no secret', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'probes:\n  timeoutMs: -5\n');
    const out = await runNode(main, {
      SLACK_BOT_TOKEN: 'xoxp-secret1',
      DATABASE_URL: 'mysql://root:pa55word@db/x',
      PORT: 'http',
      VIGIL_CONFIG: join(dir, 'bad.yaml'),
    });
    expect(out.code).toBe(78);
    for (const key of ['SLACK_BOT_TOKEN', 'DATABASE_URL', 'PORT', 'probes.timeoutMs']) expect(out.stderr).toContain(key);
    expect(out.stdout + out.stderr).not.toMatch(/secret1|pa55word/);
  });
});
