import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { HealthSnapshot } from '../../../src/probes/health.ts';
import { TEST_REDIS_URL } from '../../support/env.ts';
import { startFaultProxy } from '../../support/fault-proxy.ts';
import { checksOf, commandHarness, field, MINUTE, NOW, PROBE_TIMEOUT_MS, REPLY_WITHIN_MS, section } from '../../support/command-harness.ts';
import { waitFor } from '../../support/wait.ts';

/** /health through the real dispatcher: Postgres, Redis, this file's own BullMQ queues, HTTP targets. */
const h = commandHarness();
const { dispatcherFor, startTarget } = h;

beforeAll(async () => {
  await h.start();
  await h.seedQueues();
});

afterAll(() => h.stop());

describe('/health', () => {
  it('is ok with Postgres, Redis and one reading per queue, grouped under their headings', async () => {
    const { run } = dispatcherFor();
    const { reply, run: record } = await run('/health');
    expect(record.outcome).toBe('ok');
    const snapshot = reply.data as HealthSnapshot;
    expect(snapshot.checks.map((c) => [c.kind, c.name, c.status])).toEqual([
      ['postgres', 'Postgres', 'ok'],
      ['redis', 'Redis', 'ok'],
      ['queue', 'emails', 'ok'],
      ['queue', 'reports', 'ok'],
    ]);
    expect(snapshot.checks.find((c) => c.name === 'emails')?.values).toEqual({
      waiting: 2,
      prioritized: 0,
      active: 0,
      delayed: 1,
      failed: 0,
      completed: 0,
      paused: 0,
      oldest_waiting_ms: 10 * MINUTE,
    });
    expect(reply.status).toBe('ok');
    expect(reply.title).toBe('Health: healthy');
    expect(reply.summary).toMatch(/^All 4 checks passed in [\d.]+ ms\.$/);
    expect(reply.sections?.map((s) => s.heading)).toEqual(['Postgres', 'Redis', 'Queues']);
    expect(section(reply, 'Postgres').text).toMatch(/^[\d.]+ ms · PostgreSQL \d+[\d.]* · \d+\/\d+ connections \([\d.]+ ms\)$/);
    expect(section(reply, 'Queues').table?.rows.map((r) => [r[0], r[1]])).toEqual([
      ['emails', '2 waiting (oldest 10m) · 0 active · 0 failed · 1 delayed'],
      ['reports', '1 waiting (oldest 3m) · 0 active · 0 failed · 0 delayed'],
    ]);
    expect(reply.suggestions).toBeUndefined();
  });

  it("checks HTTP targets, and --verbose shows each target's details without its credentials", async () => {
    const target = await startTarget((path) => (path.startsWith('/down') ? 503 : 200));
    const base = `http://user:pw-secret@127.0.0.1:${target.port}`;
    // A target named like a queue stays an HTTP target: /health groups by kind, not by name.
    const httpTargets = [
      { name: 'queue mirror', url: `${base}/up?token=t0p`, timeoutMs: 500 },
      { name: 'billing', url: `${base}/down`, timeoutMs: 500 },
    ];
    const { run } = dispatcherFor({ httpTargets });

    const plain = await run('/health');
    expect(plain.reply.status).toBe('fail');
    expect(plain.reply.summary).toMatch(/^Needs attention: billing \(checked in/);
    const rows = section(plain.reply, 'HTTP targets').table?.rows ?? [];
    expect(rows.map((r) => r[0])).toEqual(['queue mirror', 'billing']);
    expect(rows[0]?.[1]).toMatch(/^HTTP 200 in [\d.]+ ms$/);
    expect(rows[1]?.[1]).toMatch(/^HTTP 503 in [\d.]+ ms · HTTP 503, expected 2xx$/);
    expect(section(plain.reply, 'HTTP targets').table?.rowStatus).toEqual(['ok', 'fail']);
    expect(section(plain.reply, 'Queues').table?.rows.map((r) => r[0])).toEqual(['emails', 'reports']);
    expect(plain.reply.sections?.some((s) => s.heading === 'billing')).toBe(false);

    const verbose = await run('/health', '--verbose');
    expect(section(verbose.reply, 'billing').fields).toContainEqual({ label: 'Status', value: '503 (expected 2xx)' });
    expect(field(verbose.reply, 'queue mirror', 'URL')).toBe(`http://user:***@127.0.0.1:${target.port}/up?…`);
    expect(JSON.stringify(verbose.reply)).not.toMatch(/pw-secret|t0p/);
  });

  it('runs one round of probes for concurrent callers (single flight), reuses it while young, refreshes it behind the answer, and a fresh one once too old', async () => {
    const slow = await startTarget(() => 200, 300);
    // Snapshots age by this clock, not by sleeping.
    let now = NOW;
    const { run, health } = dispatcherFor({ httpTargets: [{ name: 'slow', url: `${slow.base}/`, timeoutMs: 900 }], now: () => now });

    const replies = await Promise.all(Array.from({ length: 5 }, () => run('/health')));
    expect(slow.hits()).toBe(1);
    const snapshots = replies.map((r) => r.reply.data as HealthSnapshot);
    for (const s of snapshots) expect(s).toBe(snapshots[0]);
    expect(snapshots[0]?.checkedAt).toEqual(new Date(NOW));
    expect(snapshots[0]?.checks.find((c) => c.name === 'slow')).toMatchObject({ kind: 'http', status: 'ok', values: { status: 200 } });

    // Up to half of HEALTH_MAX_AGE_MS (2 s): the snapshot answers, its age shown, no probe runs.
    now = NOW + 1000;
    const young = await run('/health');
    expect(young.reply.data).toBe(snapshots[0]);
    expect(young.reply.summary).toMatch(/passed in [\d.]+ ms, 1\.0 s ago\.$/);
    expect(slow.hits()).toBe(1);

    // Past half: still answered from the snapshot, and a refresh starts behind the answer.
    now = NOW + 1001;
    const aging = await run('/health');
    expect(aging.reply.data).toBe(snapshots[0]);
    await waitFor(() => slow.hits() === 2, { what: 'the background refresh to reach the slow target' });
    // check() joins the refresh in flight (single flight): the refresh, not a third round.
    const refreshed = await health.check();
    expect(refreshed).not.toBe(snapshots[0]);
    expect(refreshed.checkedAt).toEqual(new Date(now));
    const after = await run('/health');
    expect(after.reply.data).toBe(refreshed);
    expect(slow.hits()).toBe(2);

    // Older than 2 s: the caller waits for a fresh round of probes.
    now += 2001;
    const fresh = await run('/health');
    expect(fresh.reply.data).not.toBe(refreshed);
    expect((fresh.reply.data as HealthSnapshot).checkedAt).toEqual(new Date(now));
    expect(slow.hits()).toBe(3);
  });

  it('shows a missing database as a failing check with the reason', async () => {
    const { run } = dispatcherFor({ db: null, missing: { postgres: 'DATABASE_URL is not set' } });
    const { reply, run: record } = await run('/health');
    expect(record.outcome).toBe('ok');
    expect(reply.status).toBe('fail');
    expect(section(reply, 'Postgres')).toMatchObject({ status: 'fail', text: 'DATABASE_URL is not set (0 ms)' });
    expect(section(reply, 'Redis').status).toBe('ok');
    expect(reply.summary).toMatch(/^Needs attention: Postgres \(/);
  });

  it('reports Redis down at once, without waiting for the budget, while Postgres still passes', async () => {
    // Nothing listens on port 1: connecting is refused at once, and with no offline queue every
    // command fails instead of waiting for a connection.
    const dead = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 500, retryStrategy: () => null });
    dead.on('error', () => undefined);
    await dead.connect().catch(() => undefined);
    h.defer(() => dead.disconnect());

    const { run } = dispatcherFor({ redis: dead });
    const start = performance.now();
    const { reply, run: record } = await run('/health');
    expect(performance.now() - start).toBeLessThan(REPLY_WITHIN_MS);

    expect(record.outcome).toBe('ok');
    expect(reply.status).toBe('fail');
    expect(reply.title).toBe('Health: unhealthy');
    const checks = checksOf(reply);
    expect(checks.get('Postgres')?.status).toBe('ok');
    expect(checks.get('Redis')?.status).toBe('fail');
    // Refused, not timed out: the error names the refusal, and the budget did not run out.
    expect(checks.get('Redis')?.error).toMatch(/Connection is closed|Stream isn't writeable|ECONNREFUSED/);
    expect(checks.get('Redis')?.durationMs).toBeLessThan(PROBE_TIMEOUT_MS);
    expect(checks.get('BullMQ queues')).toMatchObject({ kind: 'queue', status: 'fail' });
    expect(reply.summary).toMatch(/^Needs attention: Redis, BullMQ queues/);
    expect(section(reply, 'Postgres').status).toBe('ok');
    expect(section(reply, 'Redis').status).toBe('fail');
    expect(section(reply, 'Queues').table?.rows.map((r) => r[0])).toEqual(['BullMQ queues']);
    // Nothing to inspect when the queues cannot even be listed.
    expect(reply.suggestions).toBeUndefined();
  });

  it('times out a Redis that stops answering, and still replies', async () => {
    // A proxy to the real Redis: the client connects and gets ready through it, then the proxy
    // swallows everything, as a hung Redis would.
    const target = new URL(TEST_REDIS_URL);
    const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 6379) });
    h.defer(() => proxy.close());
    const hung = new Redis({ host: '127.0.0.1', port: proxy.port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
    hung.on('error', () => undefined);
    await hung.connect();
    expect(await hung.ping()).toBe('PONG');
    await proxy.set('silent');
    h.defer(() => hung.disconnect());

    const { run } = dispatcherFor({ redis: hung });
    const start = performance.now();
    const { reply } = await run('/health');
    const elapsed = performance.now() - start;

    // It waited for the budget (timers never fire early by more than a millisecond) and no longer
    // than it takes a loaded machine to notice.
    expect(elapsed).toBeGreaterThanOrEqual(PROBE_TIMEOUT_MS - 5);
    expect(elapsed).toBeLessThan(REPLY_WITHIN_MS);
    const checks = checksOf(reply);
    expect(checks.get('Postgres')?.status).toBe('ok');
    expect(checks.get('Redis')).toMatchObject({ status: 'fail', error: `Redis did not answer within ${PROBE_TIMEOUT_MS} ms` });
    expect(checks.get('BullMQ queues')).toMatchObject({ status: 'fail', error: `BullMQ queues did not answer within ${PROBE_TIMEOUT_MS} ms` });
    expect(reply.status).toBe('fail');
  });
});
