import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort } from '../../src/embedded/free-port.ts';
import { httpTarget, type HttpTarget } from '../../src/probes/http-probe.ts';
import { measurePostgres, POSTGRES_RULES } from '../../src/probes/postgres-probe.ts';
import { readTarget } from '../../src/probes/read-target.ts';
import { measureRedis, REDIS_RULES } from '../../src/probes/redis-probe.ts';
import { readingDetails, readingLine } from '../../src/probes/probe-list.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/env.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { waitFor } from '../support/wait.ts';

const MIB = 1024 * 1024;

function fieldValue(details: Array<{ label: string; value: string }>, label: string): string | undefined {
  return details.find((f) => f.label === label)?.value;
}

describe('the Postgres probe', () => {
  let client: pg.Client;
  let other: TestDatabase;
  const extra: pg.Client[] = [];

  beforeAll(async () => {
    client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    // Three connections to another database: the probe counts the server's connections, as
    // max_connections is server-wide, not only this database's.
    other = await createTestDatabase('probe');
    for (let i = 0; i < 3; i++) {
      const c = new pg.Client({ connectionString: other.url });
      await c.connect();
      extra.push(c);
    }
  });

  afterAll(async () => {
    await Promise.all(extra.map((c) => c.end()));
    await client?.end();
    await other?.drop();
  });

  /**
   * Other test files open and close connections all the time. Inside one transaction Postgres
   * serves pg_stat_activity from one snapshot, so the probe and the expected numbers agree exactly.
   */
  async function measureInSnapshot() {
    await client.query('BEGIN');
    try {
      const measured = await measurePostgres(client);
      const { rows } = await client.query<{ used: string; ours: string; max: string; version: string; db: string; uptime_s: string }>(
        `SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS used,
                (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid = ANY($1::int[])) AS ours,
                current_setting('max_connections') AS max,
                split_part(current_setting('server_version'), ' ', 1) AS version,
                current_database() AS db,
                extract(epoch FROM now() - pg_postmaster_start_time())::bigint AS uptime_s`,
        [extra.map((c) => (c as unknown as { processID: number }).processID)],
      );
      const expected = rows[0];
      if (!expected) throw new Error('no expected row');
      return { measured, expected };
    } finally {
      await client.query('COMMIT');
    }
  }

  it('measures client connections of the whole server, max_connections, version and uptime', async () => {
    const { measured, expected } = await measureInSnapshot();
    expect(Number(expected.ours)).toBe(3);
    expect(measured.values).toMatchObject({
      connections_used: Number(expected.used),
      connections_max: Number(expected.max),
      uptime_s: Number(expected.uptime_s),
    });
    // This client and the three others, at least.
    expect(measured.values.connections_used).toBeGreaterThanOrEqual(4);
    expect(measured.values.round_trip_ms).toBeGreaterThan(0);
    expect(measured.facts).toEqual({ version: expected.version, database: expected.db });
  });

  it('reads as one line and as details, ok while connections stay under 80 %', async () => {
    const { measured, expected } = await measureInSnapshot();
    const used = Number(expected.used);
    const max = Number(expected.max);
    expect(used / max).toBeLessThan(0.8);
    const reading = await readTarget('postgres', { name: 'Postgres', measure: async () => measured, rules: POSTGRES_RULES }, 1000);
    expect(reading).toMatchObject({ kind: 'postgres', name: 'Postgres', status: 'ok', breaches: [] });
    expect(readingLine(reading)).toBe(`${measured.values.round_trip_ms} ms · PostgreSQL ${expected.version} · ${used}/${max} connections`);
    const details = readingDetails(reading);
    expect(fieldValue(details, 'Connections')).toBe(`${used} of max_connections ${max}`);
    expect(fieldValue(details, 'Database')).toBe(expected.db);
    expect(fieldValue(details, 'Up for')).toMatch(/^(\d+[smhd] ?)+$/);
  });
});

describe('the Postgres probe, what rules may watch', () => {
  it('counts sessions waiting for a lock and the longest transaction in its database, and reads cache hit ratio and xid age', async () => {
    const db = await createTestDatabase('probe_locks');
    const sessions: pg.Client[] = [];
    const open = async () => {
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      c.on('error', () => undefined);
      sessions.push(c);
      return c;
    };
    try {
      const probe = await open();
      const holder = await open();
      const waiter = await open();
      await holder.query('CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)');
      const calm = await measurePostgres(probe);
      expect(calm.values).toMatchObject({ blocked_sessions: 0 });
      expect(calm.values.replication_lag_seconds).toBeUndefined();
      await holder.query('BEGIN');
      await holder.query('SELECT pg_sleep(0.2)');
      await holder.query('UPDATE t SET id = 1 WHERE id = 1');
      const waiting = waiter.query('UPDATE t SET id = 1 WHERE id = 1');
      await waitFor(async () => (await measurePostgres(probe)).values.blocked_sessions === 1, { timeoutMs: 5000, what: 'the waiting session counted' });
      const measured = await measurePostgres(probe);
      expect(measured.values.longest_transaction_seconds).toBeGreaterThanOrEqual(0.2);
      expect(measured.values.cache_hit_ratio).toBeGreaterThan(0);
      expect(measured.values.cache_hit_ratio).toBeLessThanOrEqual(1);
      expect(measured.values.xid_age).toBeGreaterThan(0);
      await holder.query('ROLLBACK');
      await waiting;
      expect((await measurePostgres(probe)).values.blocked_sessions).toBe(0);
    } finally {
      await Promise.all(sessions.map((c) => c.end().catch(() => undefined)));
      await db.drop();
    }
  });
});

describe('the Redis probe', () => {
  it("reports the machine Redis's own settings", async () => {
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const [, maxmemory] = (await redis.config('GET', 'maxmemory')) as [string, string];
      const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
      const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
      const [, appendonly] = (await redis.config('GET', 'appendonly')) as [string, string];
      const measured = await measureRedis(redis);
      expect(measured.facts).toEqual({ version, eviction_policy: policy, role: 'master', rdb_last_bgsave_status: 'ok', aof_last_write_status: 'ok' });
      expect(measured.values.aof_enabled).toBe(appendonly === 'yes' ? 1 : 0);
      expect(measured.values.memory_peak_bytes).toBeGreaterThanOrEqual(measured.values.memory_used_bytes ?? Infinity);
      expect(measured.values.memory_max_bytes).toBe(Number(maxmemory));
      expect(measured.values.can_evict).toBe(Number(maxmemory) > 0 && policy !== 'noeviction' ? 1 : 0);
      expect(measured.values.memory_used_bytes).toBeGreaterThan(0);
      expect(measured.values.clients).toBeGreaterThanOrEqual(1);
    } finally {
      redis.disconnect();
    }
  });

  describe('against a redis-server of its own', () => {
    let child: ChildProcess | undefined;
    let redis: Redis;
    let port = 0;
    const read = () => readTarget('redis', { name: 'Redis', measure: () => measureRedis(redis), rules: REDIS_RULES }, 2000);

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

    it('counts exactly the clients connected to it', async () => {
      // Failed connection attempts while the server started may linger for a moment.
      await waitFor(async () => (await measureRedis(redis)).values.clients === 1, { what: 'one client connected' });
      const more = [new Redis({ host: '127.0.0.1', port }), new Redis({ host: '127.0.0.1', port })];
      try {
        await Promise.all(more.map((r) => r.ping()));
        expect((await measureRedis(redis)).values.clients).toBe(3);
      } finally {
        for (const r of more) r.disconnect();
      }
    });

    it('warns that BullMQ jobs can be evicted, naming the policy', async () => {
      const reading = await read();
      expect(reading.status).toBe('warn');
      expect(reading.values).toMatchObject({ memory_max_bytes: 10 * MIB, can_evict: 1 });
      expect(reading.breaches).toEqual([{ measure: 'can_evict', status: 'warn', reason: 'maxmemory-policy allkeys-lru can evict BullMQ jobs' }]);
      expect(readingLine(reading)).toMatch(/^[\d.]+ ms · [\d.]+ MiB of 10\.0 MiB · \d+ clients · maxmemory-policy allkeys-lru can evict BullMQ jobs$/);
      expect(fieldValue(readingDetails(reading), 'Eviction policy')).toBe('allkeys-lru');
    });

    it('fails when memory is nearly full, whatever the policy', async () => {
      const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
      // A limit just above what is used now: ≥ 95 % full.
      await redis.config('SET', 'maxmemory-policy', 'noeviction');
      await redis.config('SET', 'maxmemory', String(Math.ceil(used * 1.02)));
      try {
        const reading = await read();
        expect(reading.status).toBe('fail');
        expect(reading.breaches.map((b) => [b.measure, b.status])).toEqual([['memory_used_bytes', 'fail']]);
        expect(reading.breaches[0]?.reason).toMatch(/^memory [\d.]+ MiB of [\d.]+ MiB \(\d+(\.\d)?%\) ≥ 95%$/);
      } finally {
        await redis.config('SET', 'maxmemory', '10mb');
        await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
      }
    });

    it('is ok without a memory limit, whatever the policy', async () => {
      await redis.config('SET', 'maxmemory', '0');
      try {
        const reading = await read();
        expect(reading).toMatchObject({ status: 'ok', breaches: [] });
        expect(reading.values).toMatchObject({ memory_max_bytes: 0, can_evict: 0 });
        expect(fieldValue(readingDetails(reading), 'Memory')).toMatch(/^[\d.]+ MiB \(no maxmemory\)$/);
      } finally {
        await redis.config('SET', 'maxmemory', '10mb');
      }
    });
  });
});

describe('the HTTP probe', () => {
  let server: Server;
  let base = '';
  let origin = '';
  const hanging = new Set<ServerResponse>();
  const BASIC = `Basic ${Buffer.from('ops:s3cret pass').toString('base64')}`;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      switch (new URL(req.url ?? '/', 'http://probe.test').pathname) {
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
        case '/private':
          res.writeHead(req.headers.authorization === BASIC ? 200 : 401).end();
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
    origin = `127.0.0.1:${port}`;
    base = `http://${origin}`;
  });

  afterAll(async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const read = (target: Omit<HttpTarget, 'name'>, budgetMs = 5000) => readTarget('http', httpTarget({ name: 'api', ...target }), budgetMs);

  it('is ok on 200, measuring status and latency', async () => {
    const reading = await read({ url: `${base}/ok`, timeoutMs: 2000 });
    expect(reading).toMatchObject({ kind: 'http', name: 'api', status: 'ok', breaches: [], facts: { url: `${base}/ok`, expected: '2xx' } });
    expect(reading.values).toMatchObject({ status: 200, unexpected_status: 0 });
    expect(reading.values.latency_ms).toBeGreaterThan(0);
    expect(readingLine(reading)).toBe(`HTTP 200 in ${reading.values.latency_ms} ms`);
    expect(fieldValue(readingDetails(reading), 'Status')).toBe('200');
  });

  it('fails on 500, saying what was expected', async () => {
    const reading = await read({ url: `${base}/broken`, timeoutMs: 2000 });
    expect(reading.status).toBe('fail');
    expect(reading.breaches).toEqual([{ measure: 'unexpected_status', status: 'fail', reason: 'HTTP 500, expected 2xx' }]);
    expect(fieldValue(readingDetails(reading), 'Status')).toBe('500 (expected 2xx)');
  });

  it('does not follow redirects', async () => {
    const reading = await read({ url: `${base}/moved`, timeoutMs: 2000 });
    expect(reading.values.status).toBe(302);
    expect(reading.status).toBe('fail');
  });

  it('honours expectStatus both ways', async () => {
    const teapot = await read({ url: `${base}/teapot`, expectStatus: 418, timeoutMs: 2000 });
    expect(teapot).toMatchObject({ status: 'ok', values: { status: 418 } });
    const notNoContent = await read({ url: `${base}/ok`, expectStatus: 204, timeoutMs: 2000 });
    expect(notNoContent.status).toBe('fail');
    expect(notNoContent.breaches[0]?.reason).toBe('HTTP 200, expected 204');
  });

  it('sends URL credentials as Basic auth and never shows them', async () => {
    const reading = await read({ url: `http://ops:s3cret%20pass@${origin}/private?token=t0p`, timeoutMs: 2000 });
    expect(reading.values.status).toBe(200);
    expect(reading.facts.url).toBe(`http://ops:***@${origin}/private?…`);
    expect(JSON.stringify(reading)).not.toMatch(/s3cret|t0p/);
    const wrong = await read({ url: `http://ops:guess@${origin}/private`, timeoutMs: 2000 });
    expect(wrong.values.status).toBe(401);
  });

  it('reports a hanging server as failed once its check budget runs out', async () => {
    // The target's own timeout is far longer: the message says which of the two fired.
    const start = performance.now();
    const reading = await read({ url: `${base}/hang`, timeoutMs: 10_000 }, 200);
    expect(reading).toMatchObject({ status: 'fail', error: 'api did not answer within 200 ms', values: {} });
    expect(reading.durationMs).toBeGreaterThanOrEqual(190);
    expect(performance.now() - start).toBeLessThan(10_000);
  });

  it("fails on the target's own timeout too", async () => {
    const reading = await read({ url: `${base}/hang`, timeoutMs: 150 }, 10_000);
    expect(reading).toMatchObject({ status: 'fail', error: `GET ${base}/hang failed: timed out` });
    expect(reading.durationMs).toBeGreaterThanOrEqual(140);
  });

  it('reports a refused connection as failed', async () => {
    const port = await freePort();
    const reading = await read({ url: `http://127.0.0.1:${port}/`, timeoutMs: 1000 });
    expect(reading).toMatchObject({ status: 'fail', error: `GET http://127.0.0.1:${port}/ failed: ECONNREFUSED` });
  });
});
