import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort } from '../../src/embedded/free-port.ts';
import { runCheck } from '../../src/probes/check.ts';
import { displayUrl, probeHttp } from '../../src/probes/http.ts';
import { probePostgres } from '../../src/probes/postgres.ts';
import { probeRedis } from '../../src/probes/redis.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/env.ts';
import { waitFor } from '../support/wait.ts';

function fieldValue(details: Array<{ label: string; value: string }> | undefined, label: string): string | undefined {
  return details?.find((f) => f.label === label)?.value;
}

describe('probePostgres', () => {
  let pool: pg.Pool;

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  });

  afterAll(async () => {
    await pool?.end();
  });

  it('reports version and connections used of max_connections', async () => {
    const { rows } = await pool.query<{ version: string; max: string; db: string }>(
      "SELECT split_part(current_setting('server_version'), ' ', 1) AS version, current_setting('max_connections') AS max, current_database() AS db",
    );
    const expected = rows[0];
    if (!expected) throw new Error('no settings row');

    const outcome = await probePostgres(pool);
    expect(outcome.status).toBe('ok');
    const match = /^[\d.]+ ms · PostgreSQL (.+) · (\d+)\/(\d+) connections$/.exec(outcome.summary);
    expect(match, outcome.summary).not.toBeNull();
    const [, version, used, max] = match ?? [];
    expect(version).toBe(expected.version);
    expect(max).toBe(expected.max);
    // At least this pool's own connection is a client backend; never more than the server allows.
    expect(Number(used)).toBeGreaterThanOrEqual(1);
    expect(Number(used)).toBeLessThanOrEqual(Number(max));

    expect(fieldValue(outcome.details, 'Version')).toBe(expected.version);
    expect(fieldValue(outcome.details, 'Connections')).toBe(`${used} of max_connections ${max}`);
    expect(fieldValue(outcome.details, 'Database')).toBe(expected.db);
    expect(fieldValue(outcome.details, 'Up for')).toMatch(/^(\d+[smhd] ?)+$/);
  });

  it('counts client connections: a few more connections show up in "used"', async () => {
    const extra = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await c.connect();
        return c;
      }),
    );
    try {
      const outcome = await probePostgres(pool);
      const used = Number(/(\d+)\/\d+ connections/.exec(outcome.summary)?.[1]);
      expect(used).toBeGreaterThanOrEqual(4); // the pool's connection + 3 extra
    } finally {
      await Promise.all(extra.map((c) => c.end()));
    }
  });
});

describe('probeRedis', () => {
  it('reports memory and connected clients of the machine Redis', async () => {
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const [, maxmemory] = (await redis.config('GET', 'maxmemory')) as [string, string];
      const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
      const outcome = await probeRedis(redis);
      expect(outcome.summary).toMatch(/^[\d.]+ ms · [\d.]+ MiB/);
      const clients = Number(/· (\d+) clients/.exec(outcome.summary)?.[1]);
      expect(clients).toBeGreaterThanOrEqual(1);
      expect(fieldValue(outcome.details, 'Clients')).toMatch(new RegExp(`^${clients} connected, \\d+ blocked$`));
      expect(fieldValue(outcome.details, 'Eviction policy')).toBe(policy);
      expect(fieldValue(outcome.details, 'Version')).toMatch(/^\d+\.\d+/);
      if (Number(maxmemory) === 0) {
        expect(fieldValue(outcome.details, 'Memory')).toMatch(/^[\d.]+ MiB \(no maxmemory\)$/);
        expect(outcome.status).toBe('ok');
      }
    } finally {
      redis.disconnect();
    }
  });

  describe('against a redis-server that may evict keys', () => {
    let child: ChildProcess | undefined;
    let redis: Redis | undefined;
    let port = 0;

    beforeAll(async () => {
      port = await freePort();
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory', '10mb', '--maxmemory-policy', 'allkeys-lru'],
        { stdio: 'ignore' },
      );
      redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 0 });
      redis.on('error', () => undefined);
      const client = redis;
      await waitFor(
        async () => {
          if (client.status !== 'ready') await client.connect().catch(() => undefined);
          return client.status === 'ready' && (await client.ping().catch(() => '')) === 'PONG';
        },
        { timeoutMs: 5000, what: `redis-server on port ${port}` },
      );
    });

    afterAll(async () => {
      redis?.disconnect();
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child?.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    });

    it('warns that BullMQ jobs can be evicted', async () => {
      if (!redis) throw new Error('redis-server did not start');
      const outcome = await probeRedis(redis);
      expect(outcome.status).toBe('warn');
      expect(outcome.summary).toContain('maxmemory-policy allkeys-lru can evict BullMQ jobs');
      expect(fieldValue(outcome.details, 'Memory')).toMatch(/^[\d.]+ MiB of 10\.0 MiB$/);
      expect(fieldValue(outcome.details, 'Eviction policy')).toBe('allkeys-lru');
    });

    it('fails when memory is nearly full, whatever the policy', async () => {
      if (!redis) throw new Error('redis-server did not start');
      const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
      // A limit just above what is used now: ≥ 95 % full.
      await redis.config('SET', 'maxmemory-policy', 'noeviction');
      await redis.config('SET', 'maxmemory', String(Math.ceil(used * 1.02)));
      try {
        const outcome = await probeRedis(redis);
        expect(outcome.status).toBe('fail');
        expect(outcome.summary).not.toContain('can evict');
      } finally {
        await redis.config('SET', 'maxmemory', '10mb');
      }
    });
  });
});

describe('probeHttp', () => {
  let server: Server;
  let base = '';
  const hanging = new Set<ServerResponse>();

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      switch (req.url) {
        case '/ok':
          res.writeHead(200, { 'content-type': 'text/plain' }).end('fine');
          return;
        case '/broken':
          res.writeHead(500).end('oops');
          return;
        case '/teapot':
          res.writeHead(418).end();
          return;
        case '/moved':
          res.writeHead(302, { location: '/ok' }).end();
          return;
        case '/hang':
          hanging.add(res); // never answered
          return;
        default:
          res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    // address() is only a string for pipe servers, which this is not.
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('is ok on 200, with status and latency', async () => {
    const outcome = await probeHttp({ name: 'api', url: `${base}/ok`, timeoutMs: 2000 });
    expect(outcome.status).toBe('ok');
    expect(outcome.summary).toMatch(/^HTTP 200 in [\d.]+ ms$/);
    expect(fieldValue(outcome.details, 'Status')).toBe('200');
    expect(fieldValue(outcome.details, 'URL')).toBe(`${base}/ok`);
  });

  it('fails on 500, saying what was expected', async () => {
    const outcome = await probeHttp({ name: 'api', url: `${base}/broken`, timeoutMs: 2000 });
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toMatch(/^HTTP 500 in/);
    expect(fieldValue(outcome.details, 'Status')).toBe('500 (expected 2xx)');
  });

  it('does not follow redirects', async () => {
    const outcome = await probeHttp({ name: 'api', url: `${base}/moved`, timeoutMs: 2000 });
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toMatch(/^HTTP 302 in/);
  });

  it('honours expectStatus both ways', async () => {
    const teapot = await probeHttp({ name: 'api', url: `${base}/teapot`, expectStatus: 418, timeoutMs: 2000 });
    expect(teapot.status).toBe('ok');
    const notNoContent = await probeHttp({ name: 'api', url: `${base}/ok`, expectStatus: 204, timeoutMs: 2000 });
    expect(notNoContent.status).toBe('fail');
    expect(fieldValue(notNoContent.details, 'Status')).toBe('200 (expected 204)');
  });

  it('reports a hanging server as failed once the check times out', async () => {
    const start = performance.now();
    const result = await runCheck('api', 'http', 200, () => probeHttp({ name: 'api', url: `${base}/hang`, timeoutMs: 1000 }));
    const elapsed = performance.now() - start;
    expect(result.status).toBe('fail');
    expect(result.summary).toBe('api did not answer within 200 ms');
    expect(result.durationMs).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(400);
  });

  it("fails on the target's own timeout too", async () => {
    const result = await runCheck('api', 'http', 2000, () => probeHttp({ name: 'api', url: `${base}/hang`, timeoutMs: 150 }));
    expect(result.status).toBe('fail');
    expect(result.summary).toBe(`GET ${base}/hang failed: timed out`);
    expect(result.durationMs).toBeLessThan(1000);
  });

  it('reports a refused connection as failed', async () => {
    const port = await freePort();
    const result = await runCheck('api', 'http', 1000, () => probeHttp({ name: 'api', url: `http://127.0.0.1:${port}/`, timeoutMs: 1000 }));
    expect(result.status).toBe('fail');
    expect(result.summary).toBe(`GET http://127.0.0.1:${port}/ failed: ECONNREFUSED`);
  });
});

describe('displayUrl', () => {
  it('hides credentials', () => {
    const shown = displayUrl('https://admin:s3cret@status.example.com:8443/health');
    expect(shown).toBe('https://status.example.com:8443/health');
    expect(shown).not.toContain('s3cret');
    expect(shown).not.toContain('admin');
  });

  it('hides the query string behind a readable marker', () => {
    const shown = displayUrl('https://status.example.com/health?token=abc123&verbose=1');
    expect(shown).not.toContain('abc123');
    expect(shown).toBe('https://status.example.com/health?…');
  });

  it('hides the fragment too', () => {
    const shown = displayUrl('https://user:pw@status.example.com/health?x=1#access_token=abc123');
    expect(shown).not.toContain('abc123');
    expect(shown).not.toContain('pw');
  });

  it('leaves a plain URL alone', () => {
    expect(displayUrl('http://127.0.0.1:8080/healthz')).toBe('http://127.0.0.1:8080/healthz');
  });
});
