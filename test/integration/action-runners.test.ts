import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runnerConfigSchema } from '../../src/actions/runner-config.ts';
import { runExec } from '../../src/actions/runners/exec.ts';
import { checkTarget, createRunner, type RunnerDeps } from '../../src/actions/runners/index.ts';
import { createPool } from '../../src/db/pools.ts';
import { startAlertmanager, type Alertmanager } from '../support/alertmanager.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { deleteKeysUnder, keysUnder } from '../support/redis-keys.ts';
import { sleep, waitFor } from '../support/wait.ts';

/**
 * The action runners against real things: child processes, a local HTTP server, BullMQ queues in
 * the machine's Redis (under a random prefix), a real Alertmanager, and real Postgres backends.
 */
const dir = mkdtempSync(join(tmpdir(), 'vigil-actions-'));
const prefix = uniqueName('action_runners');
const ctx = () => ({ signal: new AbortController().signal, requestedBy: 'alice' });
const baseEnv = { PATH: process.env.PATH, HOME: dir };
const pidsToKill = new Set<number>();
const cleanups: Array<() => Promise<unknown> | unknown> = [];

let connection: Redis;
let pool: pg.Pool;
let deps: RunnerDeps;

beforeAll(() => {
  connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  // Like the container's probe pool: read-only, and named as Vigil's connections are.
  pool = createPool(TEST_DATABASE_URL, { name: 'vigil-probes', max: 2, readOnly: true, onIdleError: () => undefined });
  deps = { env: baseEnv, bullmq: { connection, prefix }, alertmanagerUrl: null, db: pool };
});

afterAll(async () => {
  for (const pid of pidsToKill) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  for (const c of cleanups.reverse()) await c();
  await deleteKeysUnder(connection, prefix);
  connection.disconnect();
  await pool.end();
  rmSync(dir, { recursive: true, force: true });
});

const action = (config: unknown) => runnerConfigSchema.parse(config);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('exec', () => {
  it('restarts a real long-running process: the script kills the old pid and starts a new one', async () => {
    const pidFile = join(dir, 'api.pid');
    const daemon = join(dir, 'daemon.cjs');
    writeFileSync(daemon, `require('fs').writeFileSync(process.argv[2], String(process.pid)); setInterval(() => {}, 1000);\n`);
    const script = join(dir, 'restart.sh');
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        'set -eu',
        'pidfile="$(dirname "$0")/$1.pid"',
        'old=$(cat "$pidfile")',
        'kill "$old"',
        'i=0; while kill -0 "$old" 2>/dev/null; do i=$((i+1)); [ $i -lt 100 ] || { echo "$old did not stop" >&2; exit 1; }; sleep 0.05; done',
        'rm -f "$pidfile"',
        `nohup '${process.execPath}' '${daemon}' "$pidfile" >/dev/null 2>&1 &`,
        'i=0; while [ ! -s "$pidfile" ]; do i=$((i+1)); [ $i -lt 200 ] || { echo "no new pid" >&2; exit 1; }; sleep 0.05; done',
        'echo "restarted $1: $old -> $(cat "$pidfile")"',
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);

    const old: ChildProcess = spawn(process.execPath, [daemon, pidFile], { stdio: 'ignore' });
    const oldExited = new Promise<void>((resolve) => old.once('exit', () => resolve()));
    pidsToKill.add(old.pid as number);
    const oldPid = Number(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8'), { what: 'the first pid' }));
    expect(oldPid).toBe(old.pid);

    const restart = createRunner(action({ exec: [script, '{service}'], params: { service: { enum: ['api', 'worker'] } }, timeout: '20s' }), deps);
    const outcome = await restart({ service: 'api' }, ctx());

    const newPid = Number(readFileSync(pidFile, 'utf8'));
    pidsToKill.add(newPid);
    expect(outcome).toMatchObject({ ok: true, summary: expect.stringMatching(/^Exited with code 0 after \d+\.\d s\.$/) });
    expect(outcome.output.trim()).toBe(`restarted api: ${oldPid} -> ${newPid}`);
    expect(newPid).not.toBe(oldPid);
    await oldExited;
    expect(alive(newPid)).toBe(true); // the restarted service outlives the action
  });

  it('kills the whole process group on timeout (a sleep 30 and what it started)', async () => {
    const grandchildPid = join(dir, 'grandchild.pid');
    const outcome = await createRunner(
      action({ exec: ['sh', '-c', `sleep 30 & echo $! > '${grandchildPid}'; sleep 30`], timeout: '1s' }),
      deps,
    )({}, ctx());
    expect(outcome.ok).toBe(false);
    expect(outcome.summary).toBe('Timed out after 1 s; its process group was killed.');
    expect(outcome.details).toMatchObject({ timedOut: true, signal: 'SIGTERM' });
    expect(outcome.details?.durationMs).toBeLessThan(4000);
    const pid = Number(readFileSync(grandchildPid, 'utf8'));
    await waitFor(() => !alive(pid), { what: 'the background sleep to die' });
  });

  it('SIGKILLs a process group that ignores SIGTERM, 5 s later', async () => {
    const r = await runExec(['sh', '-c', 'trap "" TERM; sleep 30'], {}, { timeoutMs: 300, outputCapBytes: 1000, envAllow: ['PATH'], env: baseEnv, signal: new AbortController().signal });
    expect(r).toMatchObject({ ok: false, timedOut: true, signal: 'SIGKILL' });
    expect(r.durationMs).toBeGreaterThanOrEqual(5000);
    expect(r.durationMs).toBeLessThan(8000);
  });

  it('stops on abort (Vigil shutting down)', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    const outcome = await createRunner(action({ exec: ['sleep', '30'] }), deps)({}, { signal: abort.signal, requestedBy: 'alice' });
    expect(outcome).toMatchObject({ ok: false, summary: 'Aborted (Vigil is shutting down); its process group was killed.' });
  });

  it('caps the output and says so, and interleaves stdout and stderr', async () => {
    const big = await createRunner(action({ exec: [process.execPath, '-e', "process.stdout.write('x'.repeat(100000))"], outputCap: 1000 }), deps)({}, ctx());
    expect(big.ok).toBe(true);
    expect(big.output).toBe(`${'x'.repeat(1000)}\n… [output truncated at 1000 bytes]`);
    expect(big.details).toMatchObject({ truncated: true });

    const both = await createRunner(action({ exec: ['sh', '-c', 'echo out1; sleep 0.1; echo err1 >&2; sleep 0.1; echo out2; exit 3'] }), deps)({}, ctx());
    expect(both).toMatchObject({ ok: false, output: 'out1\nerr1\nout2\n', details: { exitCode: 3 } });
    expect(both.summary).toMatch(/^Exited with code 3 after/);
  });

  it('passes only PATH, HOME and the allow-list, and scrubs allow-listed values from the output', async () => {
    process.env.VIGIL_TEST_PARENT_ONLY = 'parent-only-value';
    try {
      const env = { ...baseEnv, VIGIL_SECRET_NOT_LISTED: 'hidden-secret-value', DEPLOY_TOKEN: 'tok-1234567890' };
      const outcome = await createRunner(action({ exec: ['env'], env: ['DEPLOY_TOKEN'] }), { ...deps, env })({}, ctx());
      expect(outcome.ok).toBe(true);
      const names = outcome.output.trim().split('\n').map((line) => line.split('=')[0]);
      expect(names.sort()).toEqual(['DEPLOY_TOKEN', 'HOME', 'PATH']);
      expect(outcome.output).toContain('DEPLOY_TOKEN=***\n');
      expect(outcome.output).not.toContain('tok-1234567890');
      expect(outcome.output).not.toContain('hidden-secret-value');
      expect(outcome.output).not.toContain('parent-only-value');
    } finally {
      delete process.env.VIGIL_TEST_PARENT_ONLY;
    }
  });

  it('passes even a weird enum value as ONE argv element that no shell interprets', async () => {
    const weird = ['a;b', `$(touch ${join(dir, 'pwned1')})`, `\`touch ${join(dir, 'pwned2')}\``, `it's "quoted" | cat > ${join(dir, 'pwned3')}`];
    const echo = createRunner(action({ exec: ['printf', '[%s]\\n', '{target}'], params: { target: { enum: weird } } }), deps);
    for (const target of weird) {
      const outcome = await echo({ target }, ctx());
      expect(outcome).toMatchObject({ ok: true, output: `[${target}]\n` });
    }
    for (const f of ['pwned1', 'pwned2', 'pwned3']) expect(existsSync(join(dir, f))).toBe(false);
  });

  it('refuses values outside the enum with a clear message, and runs nothing', async () => {
    const touch = createRunner(action({ exec: ['touch', '{name}'], params: { name: { enum: ['ran'] } }, cwd: dir }), deps);
    for (const name of ['ran;touch injected', '$(touch injected)', 'ran\ninjected', "ran'"]) {
      const outcome = await touch({ name }, ctx());
      expect(outcome.ok).toBe(false);
      expect(outcome.summary).toMatch(/^Refused: name must be one of: ran \(got ".*"\)\. Nothing ran\.$/);
    }
    expect(await touch({ other: 'x', name: 'ran' }, ctx())).toMatchObject({ ok: false, summary: 'Refused: unknown parameter "other"; this action takes: name. Nothing ran.' });
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    expect(existsSync(join(dir, 'injected'))).toBe(false);
    expect((await touch({ name: 'ran' }, ctx())).ok).toBe(true);
    expect(existsSync(join(dir, 'ran'))).toBe(true);
  });

  it('reports a program that cannot be started', async () => {
    const outcome = await createRunner(action({ exec: ['/nonexistent/vigil-tool', 'x'] }), deps)({}, ctx());
    expect(outcome).toMatchObject({ ok: false, summary: 'Could not start /nonexistent/vigil-tool: spawn /nonexistent/vigil-tool ENOENT.' });
  });
});

describe('http', () => {
  interface Seen {
    method: string;
    url: string;
    headers: IncomingHttpHeaders;
    body: string;
  }
  const seen: Seen[] = [];
  let server: Server;
  let base = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        if (req.url?.startsWith('/redirect')) return void res.writeHead(302, { location: 'http://169.254.169.254/latest?token=x' }).end();
        if (req.url?.startsWith('/slow')) return void setTimeout(() => res.end('late'), 3000);
        if (req.url?.startsWith('/big')) return void res.end('y'.repeat(50_000));
        res.writeHead(req.url?.startsWith('/fail') ? 500 : 200, { 'content-type': 'text/plain' });
        res.end(`echo auth=${req.headers.authorization ?? ''}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    cleanups.push(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  });

  const env = { ...baseEnv, HOOK_TOKEN: 'hook-secret-123456' };

  it('sends headers from env, encodes the URL, JSON-escapes the body, and scrubs the token it echoes', async () => {
    const hook = createRunner(
      action({
        http: { method: 'POST', url: `${base}/hooks/{job}?note={why}`, headers: { Authorization: 'Bearer ${env:HOOK_TOKEN}' }, body: '{"job": "{job}", "why": "{why}", "n": {n}}' },
        params: { job: { enum: ['deploy api'] }, why: { text: { maxLength: 100 } }, n: { integer: { min: 1, max: 5 } } },
      }),
      { ...deps, env },
    );
    const why = `a "quoted" $(id) & more\\`;
    const outcome = await hook({ job: 'deploy api', why, n: '2' }, ctx());
    expect(outcome).toMatchObject({ ok: true, summary: `POST ${base}/hooks/deploy%20api?… answered 200.`, output: 'HTTP 200 OK\necho auth=Bearer ***' });
    const req = seen.at(-1) as Seen;
    expect(req.url).toBe(`/hooks/deploy%20api?note=${encodeURIComponent(why)}`);
    expect(req.headers.authorization).toBe('Bearer hook-secret-123456');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({ job: 'deploy api', why, n: 2 });
    expect(JSON.stringify(outcome)).not.toContain('hook-secret');
  });

  it('does not follow redirects, reports failures, caps the body, times out', async () => {
    const get = (path: string, extra: Record<string, unknown> = {}) => createRunner(action({ http: { method: 'GET', url: `${base}${path}` }, ...extra }), { ...deps, env })({}, ctx());
    const count = seen.length;
    expect(await get('/redirect')).toMatchObject({ ok: false, output: 'HTTP 302 Found (redirect to http://169.254.169.254/latest?… not followed)\n' });
    expect(seen.length).toBe(count + 1);
    expect(await get('/fail')).toMatchObject({ ok: false, summary: `GET ${base}/fail answered 500.` });
    const big = await get('/big', { outputCap: 300 });
    expect(big.output).toBe(`HTTP 200 OK\n${'y'.repeat(300)}\n… [body truncated at 300 bytes]`);
    expect(await get('/slow', { timeout: '1s' })).toMatchObject({ ok: false, summary: `GET ${base}/slow: No response: timed out after 1000 ms.` });
  });

  it('sends nothing when a header needs an unset variable', async () => {
    const count = seen.length;
    const outcome = await createRunner(action({ http: { method: 'POST', url: `${base}/x`, headers: { Authorization: 'Bearer ${env:MISSING_TOKEN}' } } }), deps)({}, ctx());
    expect(outcome).toMatchObject({ ok: false, summary: `POST ${base}/x: Not sent: environment variable MISSING_TOKEN is not set (needed by a header).` });
    expect(seen.length).toBe(count);
  });
});

describe('bullmq builtins', () => {
  let queue: Queue;
  const workers: Worker[] = [];

  beforeAll(async () => {
    queue = new Queue('jobs', { connection, prefix });
    cleanups.push(async () => {
      for (const w of workers) await w.close();
      await queue.close();
    });
    await queue.addBulk(Array.from({ length: 5 }, (_, i) => ({ name: 'send', data: { i }, opts: { attempts: 1 } })));
    const fail = async (): Promise<void> => {
      throw new Error('smtp down');
    };
    const failing = new Worker('jobs', fail, { connection, prefix });
    workers.push(failing);
    await waitFor(async () => (await queue.getFailedCount()) === 5, { what: '5 failed jobs', timeoutMs: 10_000 });
    await failing.close();
  });

  it('retries up to the limit of failed jobs, which a now-succeeding worker then processes', async () => {
    const retry = createRunner(action({ builtin: 'bullmq.retryFailed', params: { limit: { integer: { min: 1, max: 10 }, default: 3 } } }), deps);
    const outcome = await retry({ queue: 'jobs' }, ctx());
    expect(outcome).toMatchObject({ ok: true, summary: 'Retried 3 failed jobs of jobs; 2 still failed.', details: { retried: 3, stillFailed: 2 } });
    expect(await queue.getJobCounts('wait', 'failed')).toMatchObject({ wait: 3, failed: 2 });

    const done: string[] = [];
    workers.push(new Worker('jobs', async (job) => void done.push(String(job.id)), { connection, prefix }));
    await waitFor(async () => (await queue.getCompletedCount()) === 3, { what: '3 completed jobs', timeoutMs: 10_000 });
    expect(done).toHaveLength(3);
  });

  it('pauses and resumes a queue', async () => {
    const pause = createRunner(action({ builtin: 'bullmq.pause', params: { queue: { enum: ['jobs'] } } }), deps);
    const resume = createRunner(action({ builtin: 'bullmq.resume' }), deps);
    expect(await pause({ queue: 'jobs' }, ctx())).toMatchObject({ ok: true, summary: 'Paused queue jobs.' });
    expect(await queue.isPaused()).toBe(true);
    expect(await pause({ queue: 'jobs' }, ctx())).toMatchObject({ ok: true, summary: 'Paused queue jobs (it was paused already).' });
    expect(await resume({ queue: 'jobs' }, ctx())).toMatchObject({ ok: true, summary: 'Resumed queue jobs.' });
    expect(await queue.isPaused()).toBe(false);
    expect(await pause({ queue: 'other' }, ctx())).toMatchObject({ ok: false, summary: 'Refused: queue must be one of: jobs (got "other"). Nothing ran.' });
  });

  it('cleans jobs by state and age', async () => {
    const clean = createRunner(action({ builtin: 'bullmq.clean' }), deps);
    expect(await clean({ queue: 'jobs', state: 'completed', age: '1h' }, ctx())).toMatchObject({ ok: true, summary: 'Removed 0 completed jobs older than 1h from jobs.' });
    await sleep(1100);
    const outcome = await clean({ queue: 'jobs', state: 'completed', age: '1s', limit: 2 }, ctx());
    expect(outcome).toMatchObject({ ok: true, summary: 'Removed 2 completed jobs older than 1s from jobs (the limit; more may remain).' });
    expect(await queue.getCompletedCount()).toBe(1);
    expect(await clean({ queue: 'jobs', state: 'failed', age: '1s' }, ctx())).toMatchObject({ ok: true, summary: 'Removed 2 failed jobs older than 1s from jobs.' });
    expect(await queue.getFailedCount()).toBe(0);
  });

  it('refuses a queue that does not exist, creating nothing, and says so at request time', async () => {
    const spec = action({ builtin: 'bullmq.pause' });
    expect(await createRunner(spec, deps)({ queue: 'typo' }, ctx())).toMatchObject({ ok: false, summary: `Queue typo does not exist under prefix ${prefix}; nothing changed.` });
    expect((await keysUnder(connection, prefix)).filter((k) => k.includes(':typo'))).toEqual([]);
    expect(await checkTarget(spec, { queue: 'typo' }, deps)).toBe(`queue "typo" does not exist under prefix ${prefix}; known queues: jobs`);
    expect(await checkTarget(spec, { queue: 'jobs' }, deps)).toBeNull();
    expect(await createRunner(spec, { ...deps, bullmq: null })({ queue: 'jobs' }, ctx())).toMatchObject({ ok: false, summary: 'BullMQ actions need Redis, which is not configured; nothing changed.' });
  });
});

describe('alertmanager builtins', () => {
  let am: Alertmanager;

  beforeAll(async () => {
    am = await startAlertmanager({ webhookUrl: 'http://127.0.0.1:9/unused' });
    cleanups.push(() => am.stop());
  });

  interface Silence {
    id: string;
    status: { state: string };
    matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual?: boolean }>;
    startsAt: string;
    endsAt: string;
    createdBy: string;
    comment: string;
  }
  const silences = async (): Promise<Silence[]> => (await (await fetch(`${am.url}/api/v2/silences`)).json()) as Silence[];

  it('creates a silence that appears in the API, and expires it', async () => {
    const amDeps = { ...deps, alertmanagerUrl: am.url };
    const silence = createRunner(action({ builtin: 'alertmanager.silence', params: { instance: { enum: ['db1', 'db2'] }, duration: { duration: { max: '4h', min: '5m' } } } }), amDeps);
    const outcome = await silence({ alertname: 'DiskFull', duration: '30m', comment: 'disk cleanup in progress', instance: 'db1' }, ctx());
    expect(outcome.ok).toBe(true);
    const id = String(outcome.details?.silenceId);
    expect(outcome.summary).toMatch(new RegExp(`^Silenced \\{alertname="DiskFull", instance="db1"\\} for 30m, until .* UTC \\(silence ${id}\\)\\.$`));

    const created = (await silences()).find((s) => s.id === id) as Silence;
    expect(created).toMatchObject({ status: { state: 'active' }, createdBy: 'alice', comment: 'disk cleanup in progress' });
    expect(created.matchers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'alertname', value: 'DiskFull', isRegex: false }),
        expect.objectContaining({ name: 'instance', value: 'db1', isRegex: false }),
      ]),
    );
    expect(Date.parse(created.endsAt) - Date.parse(created.startsAt)).toBeGreaterThan(29 * 60_000);
    expect(Date.parse(created.endsAt) - Date.parse(created.startsAt)).toBeLessThanOrEqual(30 * 60_000 + 1000);

    const expire = createRunner(action({ builtin: 'alertmanager.expireSilence' }), amDeps);
    expect(await expire({ id }, ctx())).toMatchObject({ ok: true, summary: `Expired silence ${id}.` });
    expect((await silences()).find((s) => s.id === id)?.status.state).toBe('expired');
    expect(await expire({ id }, ctx())).toMatchObject({ ok: true, summary: `Silence ${id} had expired already; nothing changed.` });
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(await expire({ id: unknown }, ctx())).toMatchObject({ ok: false, summary: `Alertmanager has no silence ${unknown}; nothing changed.` });
    expect((await expire({ id: '../silences' }, ctx())).summary).toMatch(/^Refused: id must match/);
  });

  it('narrows a silence with further matchers: ApiDown{env="staging"} is silenced, ApiDown{env="prod"} is not', async () => {
    const amDeps = { ...deps, alertmanagerUrl: am.url };
    // A value with quotes and a backslash: the matcher must reach Alertmanager unescaped, exactly.
    const note = 'say "hi" C:\\x';
    await am.pushAlerts([{ labels: { alertname: 'ApiDown', env: 'staging', note } }, { labels: { alertname: 'ApiDown', env: 'prod', note } }]);
    const matchers = 'env="staging", note="say \\"hi\\" C:\\\\x"';
    const outcome = await createRunner(action({ builtin: 'alertmanager.silence' }), amDeps)({ alertname: 'ApiDown', duration: '1h', comment: 'staging only', matchers }, ctx());
    expect(outcome).toMatchObject({ ok: true, details: { matchers: { alertname: 'ApiDown', env: 'staging', note } } });
    const id = String(outcome.details?.silenceId);
    expect(outcome.summary).toMatch(/^Silenced \{alertname="ApiDown", env="staging", note="say \\"hi\\" C:\\\\x"\} for 1h, until .* UTC/);

    const created = (await silences()).find((s) => s.id === id) as Silence;
    expect(created.matchers.map((m) => [m.name, m.value, m.isRegex, m.isEqual]).sort()).toEqual([
      ['alertname', 'ApiDown', false, true],
      ['env', 'staging', false, true],
      ['note', note, false, true],
    ]);
    interface AlertStatus {
      labels: Record<string, string>;
      status: { state: string; silencedBy: string[] };
    }
    const statusOf = async (env: string) => ((await am.listAlerts()) as AlertStatus[]).find((a) => a.labels.alertname === 'ApiDown' && a.labels.env === env)?.status;
    await waitFor(async () => (await statusOf('staging'))?.silencedBy.includes(id), { what: 'ApiDown{env="staging"} to be silenced' });
    expect(await statusOf('staging')).toMatchObject({ state: 'suppressed', silencedBy: [id] });
    expect(await statusOf('prod')).toMatchObject({ state: 'active', silencedBy: [] });
  });

  it('refuses malformed further matchers at request time and at run time, sending nothing', async () => {
    const amDeps = { ...deps, alertmanagerUrl: am.url };
    const before = (await silences()).length;
    const spec = action({ builtin: 'alertmanager.silence', params: { instance: { enum: ['db1'] } } });
    const base = { alertname: 'ApiDown', duration: '1h', comment: 'x', instance: 'db1' };
    const cases: Array<[string, string]> = [
      ['env=~"prod|staging"', 'matchers: env: only equality (=) matchers are allowed; write name="value" pairs separated by commas'],
      ['env="prod", alertname="Other"', 'matchers: alertname is a parameter of its own; leave it out of the matchers'],
      ['instance="db2"', 'matchers: instance is a parameter of its own; leave it out of the matchers'],
    ];
    for (const [matchers, message] of cases) {
      expect(await checkTarget(spec, { ...base, matchers }, amDeps)).toBe(message);
      expect(await createRunner(spec, amDeps)({ ...base, matchers }, ctx())).toMatchObject({ ok: false, summary: `Refused: ${message}; nothing changed.` });
    }
    expect(await checkTarget(spec, { ...base, matchers: 'env="prod"' }, amDeps)).toBeNull();
    expect(await checkTarget(spec, base, amDeps)).toBeNull();
    expect((await silences()).length).toBe(before);
  });

  it('refuses a silence over the configured maximum, and without ALERTMANAGER_URL', async () => {
    const before = (await silences()).length;
    const spec = action({ builtin: 'alertmanager.silence' });
    expect(await createRunner(spec, { ...deps, alertmanagerUrl: am.url })({ alertname: 'X', duration: '25h', comment: 'x' }, ctx())).toMatchObject({
      ok: false,
      summary: 'Refused: duration may be at most 24h (got 25h). Nothing ran.',
    });
    expect(await createRunner(spec, deps)({ alertname: 'X', duration: '1h', comment: 'x' }, ctx())).toMatchObject({
      ok: false,
      summary: 'Silences need ALERTMANAGER_URL, which is not set; nothing changed.',
    });
    expect((await silences()).length).toBe(before);
  });
});

describe('postgres builtins', () => {
  /** A connection of "the application" running pg_sleep(30); resolves with how the query ended. */
  async function sleeper(): Promise<{ pid: number; ended: Promise<string>; client: pg.Client }> {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, application_name: 'app-under-test' });
    client.on('error', () => undefined); // terminated connections emit one
    await client.connect();
    cleanups.push(() => client.end().catch(() => undefined));
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid as number;
    const ended = client.query('SELECT pg_sleep(30)').then(
      () => 'finished',
      (err: Error) => err.message,
    );
    await waitFor(async () => (await pool.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, [pid])).rowCount === 1, { what: 'the sleep to run' });
    return { pid, ended, client };
  }

  it('cancels a running pg_sleep(30) on another connection', async () => {
    const s = await sleeper();
    const outcome = await createRunner(action({ builtin: 'postgres.cancel' }), deps)({ pid: String(s.pid) }, ctx());
    expect(outcome).toMatchObject({ ok: true, details: { signalled: true, application: 'app-under-test' } });
    // Whoever TEST_DATABASE_URL connects as, wherever: the summary names the backend's own user and database.
    const { user, database } = (await s.client.query<{ user: string; database: string }>('SELECT current_user AS user, current_database() AS database')).rows[0] ?? { user: '?', database: '?' };
    expect(outcome.summary).toBe(`Cancelled the running query of backend ${s.pid} (user ${user}, database ${database}, application app-under-test); it was active.`);
    expect(await s.ended).toBe('canceling statement due to user request');
    expect((await s.client.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 }); // the session lives on
  });

  it('terminates a backend', async () => {
    const s = await sleeper();
    const outcome = await createRunner(action({ builtin: 'postgres.terminate' }), deps)({ pid: s.pid }, ctx());
    expect(outcome).toMatchObject({ ok: true, details: { signalled: true } });
    expect(await s.ended).toBe('terminating connection due to administrator command');
    await waitFor(async () => (await pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [s.pid])).rowCount === 0, { what: 'the backend to go' });
  });

  it("refuses the calling connection, Vigil's own connections, server processes and unknown pids", async () => {
    const single = createPool(TEST_DATABASE_URL, { name: 'vigil-probes', max: 1, readOnly: true, onIdleError: () => undefined });
    cleanups.push(() => single.end());
    const ownPid = (await single.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid as number;
    const cancel = createRunner(action({ builtin: 'postgres.terminate' }), { ...deps, db: single });
    expect(await cancel({ pid: ownPid }, ctx())).toMatchObject({ ok: false, summary: `Refused: pid ${ownPid} is the connection Vigil is using for this action.` });

    const vigil = new pg.Client({ connectionString: TEST_DATABASE_URL, application_name: 'vigil-state' });
    await vigil.connect();
    cleanups.push(() => vigil.end());
    const vigilPid = (await vigil.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid as number;
    expect((await cancel({ pid: vigilPid }, ctx())).summary).toMatch(new RegExp(`^Refused: backend ${vigilPid} \\(.*application vigil-state\\) is one of Vigil's own connections\\.$`));
    expect((await vigil.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

    const checkpointer = (await pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'`)).rows[0]?.pid as number;
    expect(await cancel({ pid: checkpointer }, ctx())).toMatchObject({ ok: false, summary: `Refused: pid ${checkpointer} is a checkpointer process, not a client backend.` });
    expect(await cancel({ pid: 2_000_000_000 }, ctx())).toMatchObject({ ok: false, summary: 'No Postgres backend has pid 2000000000; nothing changed.' });
    expect((await cancel({ pid: '12; SELECT 1' }, ctx())).summary).toBe('Refused: pid must be a whole number from 1 to 2147483647 (got "12; SELECT 1"). Nothing ran.');
  });
});
