import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainDependencyError } from '../../../src/core/dependency-errors.ts';
import { connectProbeRedis, lastLinkError } from '../../../src/db/redis-clients.ts';
import { freePort } from '../../../src/embedded/free-port.ts';
import { createLogger } from '../../../src/log.ts';
import type { Reply } from '../../../src/core/reply.ts';
import type { BigKeySample } from '../../../src/probes/redis-bigkeys.ts';
import { checksOf, commandHarness, field } from '../../support/command-harness.ts';
import { startOwnRedis, type OwnRedis } from '../../support/own-redis.ts';
import { sleep, waitFor } from '../../support/wait.ts';

/**
 * /redis against redis-servers of this file's own, through the real dispatcher and the real
 * fast-failing probe client, for what the shared Redis must not go through or cannot count
 * exactly: evictions under a memory limit, exact hit and client counters, a replica and its
 * master, a script that blocks Redis (busy, then no answer in time), a Redis that is down, and a
 * keyspace bigger than big-key sampling may walk.
 */
const h = commandHarness();
const servers: OwnRedis[] = [];
const silent = createLogger('silent');
type Values = { values: Record<string, number> };

/** Busy for ARGV[1] µs by Redis's clock. */
const BUSY_LOOP =
  "local s = redis.call('TIME'); local t0 = s[1] * 1000000 + s[2]; while true do local t = redis.call('TIME'); if t[1] * 1000000 + t[2] - t0 >= tonumber(ARGV[1]) then return 1 end end";

beforeAll(() => h.start());
afterAll(async () => {
  await h.stop();
  for (const s of servers) await s.stop();
});

async function server(args: string[] = []): Promise<OwnRedis> {
  const s = await startOwnRedis(args);
  servers.push(s);
  return s;
}

/** /redis over a probe client of `port` (as `user`), explaining failures as the container does. */
async function redisCommand(port: number, user = '') {
  const client = await connectProbeRedis(`redis://${user}127.0.0.1:${port}`, silent);
  h.defer(() => client.disconnect());
  const at = `127.0.0.1:${port}`;
  const explainError = (err: unknown) => explainDependencyError(err, { redis: at }, () => lastLinkError(client));
  const { run } = h.dispatcherFor({ redis: client, redisAt: at, queues: null, explainError });
  return { client, run: (text = '') => run('/redis', text), health: () => run('/health') };
}

const valuesOf = (reply: Reply) => (reply.data as Values).values;

describe('/redis on a Redis of its own', () => {
  it('counts exactly: clients, blocked clients, hits and misses', async () => {
    const s = await server();
    const { run } = await redisCommand(s.port);
    await waitFor(async () => valuesOf((await run()).reply).clients === 2, { what: 'the admin and probe clients only' });
    await s.admin.set('k', 'v');
    for (let i = 0; i < 3; i++) await s.admin.get('k');
    await s.admin.get('missing');
    const blocker = new Redis(s.url);
    h.defer(() => blocker.disconnect());
    const blocked = blocker.blpop('never', 5);
    await waitFor(async () => valuesOf((await run()).reply).blocked_clients === 1, { what: 'one blocked client' });
    const { reply } = await run();
    expect(field(reply, 'Clients and traffic', 'Clients')).toBe('3 connected, 1 blocked');
    expect(field(reply, 'Clients and traffic', 'Keyspace hit ratio')).toBe('75% (hits 3, misses 1)');
    expect(valuesOf(reply)).toMatchObject({ keyspace_hits: 3, keyspace_misses: 1, keyspace_hit_ratio: 0.75, keys: 1 });
    await s.admin.lpush('never', 'x');
    await blocked;
  });

  it('shows evictions under a memory limit, and warns that the policy evicts', async () => {
    const s = await server(['--maxmemory', '2mb', '--maxmemory-policy', 'allkeys-lru']);
    const { run, health } = await redisCommand(s.port);
    const fill = s.admin.pipeline();
    for (let i = 0; i < 3000; i++) fill.set(`fill:${i}`, 'x'.repeat(1024));
    await fill.exec();
    const { reply } = await run();
    const evicted = valuesOf(reply).evicted_keys ?? 0;
    expect(evicted).toBeGreaterThan(0);
    expect(field(reply, 'Memory', 'Eviction')).toBe(`allkeys-lru, ${evicted} keys evicted`);
    expect(field(reply, 'Memory', 'Used')).toMatch(/^[\d.]+ MiB of 2\.0 MiB \(\d+(\.\d)?%\)$/);
    expect(reply.status).not.toBe('ok');
    expect(reply.sections?.find((x) => x.heading === 'Memory')?.status).not.toBe('ok');
    expect(reply.notes).toContain('Needs attention: maxmemory-policy allkeys-lru can evict BullMQ jobs.');
    // /health judges Redis by the same rules, and points to /redis.
    const overall = (await health()).reply;
    expect(checksOf(overall).get('Redis')?.status).toBe(reply.status);
    expect(overall.suggestions).toContainEqual({ label: 'Inspect Redis', command: '/redis' });
  });

  it('shows a replica’s master and link, and a master’s replicas with their lag', async () => {
    const master = await server(['--repl-diskless-sync-delay', '0']);
    const replica = await server(['--replicaof', '127.0.0.1', String(master.port)]);
    await waitFor(async () => /master_link_status:up/.test(await replica.admin.info('replication')), { what: 'the replica in sync', timeoutMs: 10_000 });
    // The master counts the replica online only once it has acknowledged the sync.
    await waitFor(async () => /slave0:.*state=online/.test(await master.admin.info('replication')), { what: 'the replica online', timeoutMs: 10_000 });
    const fromReplica = (await (await redisCommand(replica.port)).run()).reply;
    expect(fromReplica.status).toBe('ok');
    expect(field(fromReplica, 'Replication', 'Role')).toBe('replica');
    expect(field(fromReplica, 'Replication', 'Master')).toBe(`127.0.0.1:${master.port}`);
    expect(field(fromReplica, 'Replication', 'Link')).toMatch(/^up, last heard from \d+s ago$/);
    const fromMaster = (await (await redisCommand(master.port)).run()).reply;
    expect(field(fromMaster, 'Replication', 'Replicas')).toMatch(new RegExp(`^1: 127\\.0\\.0\\.1:${replica.port} online, lag \\d+s$`));
  });

  it('answers within the command timeout while a script holds Redis, then says it is busy once Redis does', async () => {
    const s = await server();
    const { run } = await redisCommand(s.port);
    await run();
    // Under busy-reply-threshold (5 s) other clients simply wait: the probe client gives up first.
    const held = s.admin.eval(BUSY_LOOP, 0, '2500000');
    await sleep(100);
    let started = performance.now();
    const waited = await run();
    expect(performance.now() - started).toBeLessThan(2200);
    expect([waited.run.outcome, waited.reply.status, waited.reply.summary]).toEqual(['unavailable', 'fail', `Redis at 127.0.0.1:${s.port} did not answer in time.`]);
    await held;
    // A link silent past its socket timeout was dropped: the client redials in the background.
    const answers = async () => (await run()).run.outcome === 'ok';
    await waitFor(answers, { what: 'the probe client back' });

    await s.admin.config('SET', 'busy-reply-threshold', '100');
    const busy = s.admin.eval(BUSY_LOOP, 0, '1500000');
    await sleep(300);
    started = performance.now();
    const refused = await run();
    expect(performance.now() - started).toBeLessThan(1000);
    expect([refused.run.outcome, refused.reply.summary]).toEqual([
      'unavailable',
      `Redis at 127.0.0.1:${s.port} is busy running a script (it answers again when the script ends, or after SCRIPT KILL).`,
    ]);
    await busy;
    await waitFor(answers, { what: '/redis answering again' });
  });

  it('answers without the slow log when an ACL keeps it from Vigil, saying so', async () => {
    const s = await server();
    await s.admin.call('ACL', 'SETUSER', 'watcher', 'on', '>watch-pw', '~*', '+@all', '-slowlog');
    const { reply, run: record } = await (await redisCommand(s.port, 'watcher:watch-pw@')).run();
    expect(record.outcome).toBe('ok');
    expect(reply.status).toBe('ok');
    const slowlog = reply.sections?.find((x) => x.heading === 'Slow log');
    expect(slowlog?.text).toMatch(/^Redis would not show it: NOPERM .*slowlog/i);
    expect(field(reply, 'Replication', 'Role')).toBe('master');
    expect(JSON.stringify(reply)).not.toContain('watch-pw');
  });

  it('names where Redis is when it refuses the connection', async () => {
    const port = await freePort();
    const { client, run } = await redisCommand(port);
    await waitFor(() => lastLinkError(client) !== undefined, { what: 'the link error' });
    const { reply, run: record } = await run();
    expect([record.outcome, reply.status, reply.summary]).toEqual(['unavailable', 'fail', `Redis at 127.0.0.1:${port} refused the connection (is it running, on that port?).`]);
  });

  it('samples 50,000 keys within its bounds and says it is a sample, not a census', async () => {
    const s = await server();
    for (let batch = 0; batch < 50; batch++) {
      await s.admin.mset(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k:${batch}:${i}`, 'v'])));
    }
    const { run } = await redisCommand(s.port);
    const started = performance.now();
    const { reply, run: record } = await run('bigkeys');
    const tookMs = performance.now() - started;
    expect(record.outcome).toBe('ok');
    const sample = reply.data as BigKeySample;
    expect(sample.dbsize).toBe(50_000);
    expect(sample.complete).toBe(false);
    expect(['keys', 'time']).toContain(sample.stoppedBy);
    expect(sample.sampled).toBeLessThanOrEqual(sample.limits.maxKeys);
    expect(sample.scanCalls).toBeLessThanOrEqual(sample.limits.maxScanCalls);
    // The budget, plus at most one batch of MEMORY USAGE and the TYPE calls after it.
    expect(tookMs).toBeLessThan(sample.limits.budgetMs + 500);
    expect(reply.summary).toMatch(/^A sample, not a census: \d+ keys measured of 50000 in this database \(\d+(\.\d)?%\), in \d+ ms\.$/);
    expect(reply.notes).toContain('A key outside the sample may be bigger: for a full census run `redis-cli --memkeys` off-peak.');
  });
});
