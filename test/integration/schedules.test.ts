import { connect, createServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { isAppError } from '../../src/core/errors.ts';
import { connectProbeRedis } from '../../src/db/redis-clients.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { createLease } from '../../src/schedules/lease.ts';
import { createSchedule, type Schedule, type ScheduleOptions } from '../../src/schedules/schedule.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/env.ts';
import { deleteKeysUnder, keysUnder } from '../support/redis-keys.ts';
import { sleep, waitFor } from '../support/wait.ts';

/**
 * Schedules against the machine's Redis, with every-second cron expressions so a few ticks pass in
 * a few seconds. Two "replicas" are two schedules with the same name and prefix on two connections.
 */
const prefix = uniqueName('test_sched');
const EVERY_SECOND = '* * * * * *';
// Never fires while a test runs.
const NEW_YEAR = '0 0 1 1 *';

let redisA: Redis;
let redisB: Redis;
const started: Schedule[] = [];

beforeAll(async () => {
  redisA = await connectProbeRedis(TEST_REDIS_URL, createLogger('silent'));
  redisB = await connectProbeRedis(TEST_REDIS_URL, createLogger('silent'));
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

afterAll(async () => {
  await deleteKeysUnder(redisA, prefix);
  redisA.disconnect();
  redisB.disconnect();
});

interface LogLine {
  level: number;
  msg: string;
  err?: string;
}

function captureLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { log, lines };
}

/**
 * A TCP proxy to the test Redis that holds every command for `delayMs` before passing it on: a
 * replica behind it reaches each tick late, as one whose clock runs behind would.
 */
async function startDelayProxy(delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(TEST_REDIS_URL);
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  };
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    track(client);
    track(upstream);
    // Same delay for every chunk: timers of equal length fire in order, so commands stay in order.
    client.on('data', (chunk) => void setTimeout(() => upstream.write(chunk), delayMs));
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = new URL(TEST_REDIS_URL);
  url.hostname = '127.0.0.1';
  url.port = String(typeof address === 'object' && address !== null ? address.port : 0);
  return {
    url: url.toString(),
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const WARN = 40;
const ERROR = 50;

function schedule(opts: Partial<ScheduleOptions> & Pick<ScheduleOptions, 'name' | 'run'>): Schedule {
  const s = createSchedule({ cron: EVERY_SECOND, redis: redisA, keyPrefix: prefix, log: createLogger('silent'), ...opts });
  started.push(s);
  return s;
}

describe('schedules', () => {
  it('runs each tick exactly once across two replicas', { timeout: 8000 }, async () => {
    const ticks: number[] = [];
    const run = async ({ at }: { at: Date }) => void ticks.push(at.getTime());
    const a = schedule({ name: 'once', redis: redisA, run });
    const b = schedule({ name: 'once', redis: redisB, run });
    await Promise.all([a.start(), b.start()]);
    await sleep(3500);
    await Promise.all([a.stop(), b.stop()]);

    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(new Set(ticks).size).toBe(ticks.length);
    // Ticks are the scheduled whole seconds, so every replica names the same tick the same way.
    for (const t of ticks) expect(t % 1000).toBe(0);
    expect(a.stats().ran + b.stats().ran).toBe(ticks.length);
    // Both replicas were competing for each tick: the one that lost saw it claimed.
    expect(a.stats().skippedLease + b.stats().skippedLease).toBeGreaterThanOrEqual(ticks.length - 1);
    // One key remembers the last tick claimed (not one per tick); the run lease was released.
    expect(await keysUnder(redisA, `${prefix}:schedule:once`)).toEqual([`${prefix}:schedule:once:tick`]);
    expect(Number(await redisA.get(`${prefix}:schedule:once:tick`))).toBe(Math.max(...ticks) / 1000);
    expect(await redisA.exists(`${prefix}:schedule:once`)).toBe(0);
  });

  it('a replica that reaches a tick late does not run it again', { timeout: 8000 }, async () => {
    // A releasing the lease right after a fast run would let B, 150 ms behind, take it and run the
    // same tick a second time; the tick mark (already at or past that tick) is what stops that.
    const proxy = await startDelayProxy(150);
    const late = await connectProbeRedis(proxy.url, createLogger('silent'));
    try {
      const ticks: number[] = [];
      const run = async ({ at }: { at: Date }) => void ticks.push(at.getTime());
      const a = schedule({ name: 'late', redis: redisA, run });
      const b = schedule({ name: 'late', redis: late, run });
      await Promise.all([a.start(), b.start()]);
      await sleep(3500);
      await Promise.all([a.stop(), b.stop()]);

      expect(ticks.length).toBeGreaterThanOrEqual(3);
      expect(new Set(ticks).size).toBe(ticks.length);
      expect(b.stats().skippedLease).toBeGreaterThanOrEqual(ticks.length - 1);
    } finally {
      late.disconnect();
      await proxy.close();
    }
  });

  it('never overlaps a slow run within one replica', { timeout: 8000 }, async () => {
    const { log, lines } = captureLog();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const s = schedule({
      name: 'slow',
      log,
      run: async () => {
        runs++;
        maxActive = Math.max(maxActive, ++active);
        await sleep(2200);
        active--;
      },
    });
    await s.start();
    await sleep(3500);
    await s.stop();

    expect(runs).toBeGreaterThanOrEqual(1);
    expect(maxActive).toBe(1);
    expect(s.stats().skippedRunning).toBeGreaterThanOrEqual(1);
    // One warning per overlapped run, not one per skipped tick.
    const warned = lines.filter((l) => l.level === WARN && l.msg.includes('previous run is still going'));
    expect(warned.length).toBeGreaterThanOrEqual(1);
    expect(warned.length).toBeLessThanOrEqual(runs);
  });

  it('never overlaps a slow run across replicas', { timeout: 8000 }, async () => {
    const { log, lines } = captureLog();
    let active = 0;
    let maxActive = 0;
    const run = async () => {
      maxActive = Math.max(maxActive, ++active);
      await sleep(1500);
      active--;
    };
    const a = schedule({ name: 'slow-shared', redis: redisA, log, run });
    const b = schedule({ name: 'slow-shared', redis: redisB, log, run });
    await Promise.all([a.start(), b.start()]);
    await sleep(3500);
    await Promise.all([a.stop(), b.stop()]);

    expect(a.stats().ran + b.stats().ran).toBeGreaterThanOrEqual(1);
    expect(maxActive).toBe(1);
    expect(lines.some((l) => l.msg.includes('a run is still going on another replica'))).toBe(true);
  });

  it('keeps ticking after a run throws', { timeout: 8000 }, async () => {
    const { log, lines } = captureLog();
    let calls = 0;
    const s = schedule({
      name: 'throws',
      log,
      run: async () => {
        calls++;
        if (calls === 1) throw new Error('boom');
      },
    });
    await s.start();
    await waitFor(() => calls >= 3, { timeoutMs: 5000, what: 'three ticks' });
    await s.stop();

    expect(s.stats()).toMatchObject({ failed: 1 });
    expect(s.stats().ran).toBeGreaterThanOrEqual(3);
    const errors = lines.filter((l) => l.level === ERROR);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ err: 'boom', msg: 'schedule throws: run failed' });
  });

  it('rejects an invalid cron expression at creation', () => {
    const make = (cron: string) => () => createSchedule({ name: 'bad', cron, redis: redisA, keyPrefix: prefix, log: createLogger('silent'), run: async () => undefined });
    expect(make('61 * * * * *')).toThrow(/schedule "bad": invalid cron expression "61 \* \* \* \* \*": 61 is a invalid expression for second/);
    expect(make('every minute')).toThrow(/schedule "bad": invalid cron expression/);
    expect(make('* * * *')).toThrow(/expected 5 or 6 fields/);
    expect(make('*/5 * * * *')).not.toThrow();
    expect(() => createSchedule({ name: 'a:b', cron: EVERY_SECOND, redis: redisA, keyPrefix: prefix, log: createLogger('silent'), run: async () => undefined })).toThrow(/name must be/);
  });

  it('stop() waits for the run in progress and no tick follows', { timeout: 8000 }, async () => {
    let calls = 0;
    let finished = false;
    const s = schedule({
      name: 'stopping',
      run: async () => {
        calls++;
        await sleep(1200);
        finished = true;
      },
    });
    await s.start();
    await s.start(); // idempotent: still one cron task
    await waitFor(() => calls === 1, { timeoutMs: 2500, what: 'the first tick' });
    expect(finished).toBe(false);
    await s.stop();
    expect(finished).toBe(true);
    await sleep(1200);
    expect(calls).toBe(1);
    expect(await redisA.exists(`${prefix}:schedule:stopping`)).toBe(0);
  });

  it('runNow() runs once at a time across replicas, and runOnStart runs at start', { timeout: 8000 }, async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const run = async () => {
      calls++;
      await gate;
    };
    const a = schedule({ name: 'manual', cron: NEW_YEAR, redis: redisA, run });
    const b = schedule({ name: 'manual', cron: NEW_YEAR, redis: redisB, run });
    const first = a.runNow();
    await waitFor(() => calls === 1, { timeoutMs: 2000, what: 'the manual run' });
    expect(await a.runNow()).toBe('skipped_running');
    expect(await b.runNow()).toBe('skipped_lease');
    release();
    expect(await first).toBe('ran');
    expect(await b.runNow()).toBe('ran');
    expect(calls).toBe(2);

    let atStart = 0;
    const c = schedule({ name: 'at-start', cron: NEW_YEAR, runOnStart: true, run: async () => void atStart++ });
    await c.start();
    await waitFor(() => atStart === 1, { timeoutMs: 2000, what: 'the run at start' });
  });

  it('skips ticks with one warning while Redis is down', { timeout: 8000 }, async () => {
    const { log, lines } = captureLog();
    // Nothing listens on port 1: every command fails at once, like the probe client during an outage.
    const down = await connectProbeRedis('redis://127.0.0.1:1', createLogger('silent'));
    try {
      let calls = 0;
      const s = schedule({ name: 'outage', redis: down, log, run: async () => void calls++ });
      await s.start();
      await waitFor(() => s.stats().skippedRedis >= 3, { timeoutMs: 5000, what: 'three skipped ticks' });
      await s.stop();
      expect(calls).toBe(0);
      const warned = lines.filter((l) => l.level === WARN && l.msg.includes('redis unavailable'));
      expect(warned).toHaveLength(1);
      const manual = await s.runNow().catch((err: unknown) => err);
      expect(isAppError(manual) && manual.code).toBe('dependency_unavailable');
    } finally {
      down.disconnect();
    }
  });

  it('a lease is released only by its own token', async () => {
    const key = `${prefix}:lease-check`;
    const a = createLease(redisA, key);
    const b = createLease(redisB, key);
    const token = await a.tryAcquire(5000);
    expect(token).toEqual(expect.any(String));
    expect(await b.tryAcquire(5000)).toBeNull();
    expect(await b.release('not-the-token')).toBe(false);
    expect(await redisA.exists(key)).toBe(1);
    expect(await a.extend(token ?? '', 10_000)).toBe(true);
    expect(await redisA.pttl(key)).toBeGreaterThan(5000);
    expect(await a.release(token ?? '')).toBe(true);
    expect(await redisA.exists(key)).toBe(0);
  });
});
