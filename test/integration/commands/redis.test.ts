import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointOf } from '../../../src/core/dependency-errors.ts';
import { formatPercent } from '../../../src/core/format.ts';
import type { Reply } from '../../../src/core/reply.ts';
import type { BigKeySample } from '../../../src/probes/redis-bigkeys.ts';
import type { RedisDetails } from '../../../src/probes/redis-report.ts';
import { MASK } from '../../../src/probes/redis-slowlog.ts';
import { commandHarness, field, REPLY_WITHIN_MS, section } from '../../support/command-harness.ts';
import { TEST_REDIS_URL, uniqueName } from '../../support/env.ts';
import { clientAddress, watchRedisCommands } from '../../support/redis-monitor.ts';

/**
 * /redis through the real dispatcher against the suite's Redis (TEST_REDIS_URL): what it shows, a
 * real slow script and a real secret-looking argument in the slow log, big keys among small ones
 * under this file's own prefix. Every CONFIG changed is restored; every key is under the prefix.
 * What needs a server of its own (evictions, a blocking script, a replica): redis-own-server.test.ts.
 */
const h = commandHarness();
let admin: Redis;

type RedisData = RedisDetails & { at: string | null; status: string; values: Record<string, number>; facts: Record<string, string> };
const dataOf = (reply: Reply) => reply.data as RedisData;

/** Busy for ARGV[1] µs by Redis's clock, then returns; longer than 100 characters on purpose. */
const BUSY_LOOP =
  "local s = redis.call('TIME'); local t0 = s[1] * 1000000 + s[2]; while true do local t = redis.call('TIME'); if t[1] * 1000000 + t[2] - t0 >= tonumber(ARGV[1]) then return 1 end end";

beforeAll(async () => {
  await h.start();
  admin = new Redis(TEST_REDIS_URL);
  h.defer(() => admin.disconnect());
});

afterAll(() => h.stop());

async function slowlogThreshold(): Promise<string> {
  const [, value] = (await admin.config('GET', 'slowlog-log-slower-than')) as [string, string];
  return value;
}

describe('/redis', () => {
  it('shows memory, clients and traffic, persistence, replication, keyspace and the slow log, naming where Redis is', async () => {
    const [, policy] = (await admin.config('GET', 'maxmemory-policy')) as [string, string];
    const [, appendonly] = (await admin.config('GET', 'appendonly')) as [string, string];
    const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1];
    await admin.set(`${h.prefix}:one`, 'x');
    const started = performance.now();
    const { reply, run: record } = await h.dispatcherFor().run('/redis');
    expect(performance.now() - started).toBeLessThan(REPLY_WITHIN_MS);
    expect(record.outcome).toBe('ok');
    expect(reply.title).toBe(`Redis ${version} at ${endpointOf(TEST_REDIS_URL, 6379)}`);
    expect(reply.status).toBe('ok');
    expect(reply.summary).toMatch(/^master · up (\d+[smhd] ?)+ · [\d.]+ ms round trip · \d+ ops\/s$/);
    expect(reply.sections?.map((s) => s.heading)).toEqual(['Memory', 'Clients and traffic', 'Persistence', 'Replication', 'Keyspace', 'Slow log']);

    const { values: v } = dataOf(reply);
    expect(v.memory_used_bytes).toBeGreaterThan(0);
    expect(v.memory_peak_bytes).toBeGreaterThanOrEqual(v.memory_used_bytes ?? Infinity);
    expect(field(reply, 'Memory', 'Used')).toMatch(/^[\d.]+ (B|KiB|MiB|GiB)/);
    expect(field(reply, 'Memory', 'Fragmentation')).toMatch(/^\d+\.\d\d/);
    expect(field(reply, 'Memory', 'Eviction')).toBe(`${policy}, ${v.evicted_keys} keys evicted`);
    expect(field(reply, 'Clients and traffic', 'Clients')).toBe(`${v.clients} connected, ${v.blocked_clients} blocked`);
    expect(v.clients).toBeGreaterThanOrEqual(2);
    expect(field(reply, 'Persistence', 'RDB')).toMatch(/^last save (\d+[smhd] ?)+ ago, ok; \d+ changes since$/);
    expect(field(reply, 'Persistence', 'AOF')).toBe(appendonly === 'yes' ? 'on, last write ok' : 'off');
    expect(field(reply, 'Replication', 'Role')).toBe('master');
    const db0 = section(reply, 'Keyspace').table?.rows.find((r) => r[0] === 'db0');
    expect(Number(db0?.[1])).toBeGreaterThanOrEqual(1);
    expect(reply.suggestions).toEqual([{ label: 'Biggest keys', command: '/redis bigkeys' }]);
  });

  it('counts this test’s hits and misses in the keyspace hit ratio, hits / (hits + misses)', async () => {
    const { run } = h.dispatcherFor();
    await admin.set(`${h.prefix}:hit`, 'x');
    const before = dataOf((await run('/redis')).reply).values;
    for (let i = 0; i < 40; i++) await admin.get(`${h.prefix}:hit`);
    for (let i = 0; i < 25; i++) await admin.get(`${h.prefix}:miss:${i}`);
    const { reply } = await run('/redis');
    const after = dataOf(reply).values;
    const [hits, misses] = [after.keyspace_hits ?? 0, after.keyspace_misses ?? 0];
    // Other clients of the shared Redis may add lookups of their own, never take ours away.
    expect(hits - (before.keyspace_hits ?? 0)).toBeGreaterThanOrEqual(40);
    expect(misses - (before.keyspace_misses ?? 0)).toBeGreaterThanOrEqual(25);
    expect(after.keyspace_hit_ratio).toBeCloseTo(hits / (hits + misses), 12);
    expect(field(reply, 'Clients and traffic', 'Keyspace hit ratio')).toBe(`${formatPercent(hits / (hits + misses))} (hits ${hits}, misses ${misses})`);
  });

  it('shows a slow Lua script in the slow log with its duration in ms, its script cut short', async () => {
    const marker = uniqueName('slow');
    const old = await slowlogThreshold();
    await admin.config('SET', 'slowlog-log-slower-than', '10000');
    try {
      await admin.eval(BUSY_LOOP, 0, '40000', marker);
    } finally {
      await admin.config('SET', 'slowlog-log-slower-than', old);
    }
    const { reply } = await h.dispatcherFor().run('/redis');
    const entry = dataOf(reply).slowlog.find((e) => e.args.includes(marker));
    expect(entry, 'the script in SLOWLOG GET 10').toBeDefined();
    expect(entry?.durationMs).toBeGreaterThanOrEqual(40);
    expect(entry?.durationMs).toBeLessThan(2000);
    expect(entry?.args[0]?.toUpperCase()).toBe('EVAL');
    expect(entry?.args[1]).toHaveLength(100);
    expect(entry?.args[1]?.endsWith('…')).toBe(true);
    const row = section(reply, 'Slow log').table?.rows.find((r) => r[2]?.includes(marker));
    expect(row?.[0]).toMatch(/^\d+s ago$/);
    expect(row?.[1]).toBe(entry?.durationMs.toFixed(1));
  });

  it('masks a password-like CONFIG SET value in a real slow log entry, everywhere the answer shows it', async () => {
    const marker = uniqueName('secret');
    const secret = `s3cret-${marker}`;
    const old = await slowlogThreshold();
    // One transaction: no other client's command runs (and gets logged) while every command is.
    const results = await admin
      .multi()
      .config('SET', 'slowlog-log-slower-than', '0')
      .config('SET', `${marker}-password`, secret)
      .config('SET', 'slowlog-log-slower-than', old)
      .exec();
    // The setting does not exist: Redis refuses it, and logs it all the same.
    expect(String(results?.[1]?.[0])).toMatch(/Unknown option/);
    expect(await slowlogThreshold()).toBe(old);
    const { reply } = await h.dispatcherFor().run('/redis', '--json');
    const entry = dataOf(reply).slowlog.find((e) => e.args.includes(`${marker}-password`));
    expect(entry?.args.map((a) => a.toUpperCase())).toEqual(['CONFIG', 'SET', `${marker}-password`.toUpperCase(), MASK]);
    expect(section(reply, 'Slow log').table?.rows.some((r) => r[2]?.endsWith(`${marker}-password ${MASK}`))).toBe(true);
    expect(JSON.stringify(reply)).not.toContain(secret);
  });

  it('finds the biggest keys under this test’s prefix among 2,000 small ones, within its budget, saying what it measured', async () => {
    const p = `${h.prefix}:bk`;
    const small = admin.pipeline();
    for (let i = 0; i < 2000; i++) small.set(`${p}:small:${i}`, 'x');
    await small.exec();
    await admin.set(`${p}:big:string`, 'x'.repeat(300_000));
    await admin.hset(`${p}:big:hash`, ...Array.from({ length: 2000 }, (_, i) => [`f${i}`, 'v'.repeat(60)]).flat());
    await admin.rpush(`${p}:big:list`, ...Array.from({ length: 2000 }, () => 'y'.repeat(20)));
    const dbsize = await admin.dbsize();
    // The walk covers about 100 × 500 buckets: the shared test Redis must hold fewer keys than that.
    expect(dbsize).toBeLessThan(40_000);

    const { reply, run: record } = await h.dispatcherFor().run('/redis', `bigkeys --match ${p}:* --limit 3`);
    expect(record.outcome).toBe('ok');
    expect(section(reply, 'Keys').table?.rows.map((r) => [r[0], r[1]])).toEqual([
      [`${p}:big:string`, 'string'],
      [`${p}:big:hash`, 'hash'],
      [`${p}:big:list`, 'list'],
    ]);
    const s = reply.data as BigKeySample;
    expect(s).toMatchObject({ pattern: `${p}:*`, sampled: 2003, measured: 2003, stoppedBy: 'end', complete: true });
    expect(s.elapsedMs).toBeLessThan(s.limits.budgetMs);
    expect(s.top[0]?.bytes).toBeGreaterThanOrEqual(300_000);
    expect(reply.title).toBe(`Biggest keys matching ${p}:*`);
    expect(reply.summary).toMatch(new RegExp(`^Every key matching \\S+ measured: 2003 of \\d+ in this database, in \\d+ ms\\.$`));
    expect(reply.notes?.[0]).toMatch(/^SCAN made \d+ calls and stopped because every matching key was seen \(limits: 100 calls of COUNT 500, 10000 keys, 1000 ms\)\.$/);
  });

  it('shares one run (one PING, one INFO) among everyone asking at once', async () => {
    const { run } = h.dispatcherFor();
    const watch = await watchRedisCommands(TEST_REDIS_URL, { addr: await clientAddress(h.redis) });
    h.defer(() => watch.close());
    const { result, commands } = await watch.during(() => Promise.all(Array.from({ length: 8 }, () => run('/redis'))));
    expect(result.every((r) => r.run.outcome === 'ok')).toBe(true);
    // MONITOR never shows admin commands (SLOWLOG, CONFIG): PING and INFO stand for the run.
    expect(commands.filter((c) => c === 'ping' || c === 'info')).toEqual(['ping', 'info']);
  });

  it('works as /vigil redis, and refuses arguments it does not take, saying why', async () => {
    const { run } = h.dispatcherFor();
    expect((await run('/vigil', 'redis')).run.command).toBe('redis');
    const cases: Array<[string, string]> = [
      ['--match jobs:*', '--match and --limit go with bigkeys'],
      ['nope', 'the only subcommand is bigkeys'],
      ['bigkeys --limit 0', '--limit: must be at least 1'],
      ['bigkeys --limit 51', '--limit: must be at most 50'],
      ['bigkeys extra', 'takes at most one subcommand'],
    ];
    for (const [text, problem] of cases) {
      const { run: record } = await run('/redis', text);
      expect([text, record.outcome, record.error]).toEqual([text, 'bad_args', expect.stringContaining(problem)]);
    }
  });

  it('says Redis is not available, and why, when there is none', async () => {
    const { run } = h.dispatcherFor({ redis: null, queues: null, missing: { redis: 'REDIS_URL is not set' } });
    const { reply, run: record } = await run('/redis');
    expect([record.outcome, reply.status, reply.summary]).toEqual(['unavailable', 'fail', 'Redis is not available: REDIS_URL is not set.']);
  });
});
