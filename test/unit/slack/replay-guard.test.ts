/**
 * The replay guard against the real Redis (a prefix of its own), as two replicas would share it,
 * and against a Redis that is not there (memory fallback).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createReplayGuard } from '../../../src/slack/replay-guard.ts';
import { TEST_REDIS_URL, uniqueName } from '../../support/env.ts';
import { deleteKeysUnder, keysUnder } from '../../support/redis-keys.ts';

const prefix = uniqueName('replay');
let redis: Redis;
/** Nothing listens on port 1: every command fails at once, as with the probe client while Redis is down. */
let downRedis: Redis;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
  downRedis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  downRedis.on('error', () => undefined);
});

afterAll(async () => {
  await deleteKeysUnder(redis, prefix);
  redis.disconnect();
  downRedis.disconnect();
});

const NOW = 1_800_000_000_000;
const TS = NOW / 1000;
const sig = (n: number) => `v0=${n.toString(16).padStart(64, '0')}`;

describe('replay guard', () => {
  it('still refuses a replay to the same replica after Redis lost its keys (restarted without persistence)', async () => {
    const replica = createReplayGuard({ redis, keyPrefix: prefix, now: () => NOW });
    expect(await replica.firstSeen(sig(7), TS)).toBe(true);
    await deleteKeysUnder(redis, prefix);
    expect(await replica.firstSeen(sig(7), TS)).toBe(false);
  });

  it('lets a signature through once; the same signature again, from any replica, is a replay', async () => {
    const registry = new Registry();
    const replicaA = createReplayGuard({ redis, keyPrefix: prefix, registry, now: () => NOW });
    const replicaB = createReplayGuard({ redis, keyPrefix: prefix, now: () => NOW });
    expect(await replicaA.firstSeen(sig(1), TS)).toBe(true);
    expect(await replicaA.firstSeen(sig(1), TS)).toBe(false);
    expect(await replicaB.firstSeen(sig(1), TS)).toBe(false);
    expect(await replicaB.firstSeen(sig(2), TS)).toBe(true);
    // Replica A (the one counting) recognised its own replay in memory, before asking Redis.
    expect(await registry.metrics()).toMatch(/^vigil_slack_replays_total\{store="memory"\} 1$/m);
    const registryC = new Registry();
    const replicaC = createReplayGuard({ redis, keyPrefix: prefix, registry: registryC, now: () => NOW });
    expect(await replicaC.firstSeen(sig(2), TS)).toBe(false);
    expect(await registryC.metrics()).toMatch(/^vigil_slack_replays_total\{store="redis"\} 1$/m);
  });

  it('remembers a signature exactly as long as its timestamp could still be accepted', async () => {
    const guard = createReplayGuard({ redis, keyPrefix: prefix, now: () => NOW });
    // Signed 5 minutes ahead (the most skew allowed): valid for 10 more minutes, remembered as long.
    await guard.firstSeen(sig(3), TS + 300);
    await guard.firstSeen(sig(4), TS - 200);
    const ttl = async (n: number) => redis.pttl(`${prefix}:slack-seen:${sig(n)}`);
    expect(await ttl(3)).toBeGreaterThan(600_000);
    expect(await ttl(3)).toBeLessThanOrEqual(601_000);
    expect(await ttl(4)).toBeGreaterThan(100_000);
    expect(await ttl(4)).toBeLessThanOrEqual(101_000);
    expect((await keysUnder(redis, prefix)).every((k) => k.startsWith(`${prefix}:slack-seen:v0=`))).toBe(true);
  });

  it('falls back to memory while Redis is down: replays to this replica are still caught', async () => {
    const registry = new Registry();
    const guard = createReplayGuard({ redis: downRedis, keyPrefix: prefix, registry, now: () => NOW });
    expect(await guard.firstSeen(sig(5), TS)).toBe(true);
    expect(await guard.firstSeen(sig(5), TS)).toBe(false);
    expect(await guard.firstSeen(sig(6), TS)).toBe(true);
    expect(await registry.metrics()).toMatch(/^vigil_slack_replays_total\{store="memory"\} 1$/m);
  });

  it('keeps its memory bounded, forgetting the oldest first, and forgets what has expired', async () => {
    let now = NOW;
    const guard = createReplayGuard({ redis: null, keyPrefix: prefix, memoryEntries: 3, now: () => now });
    for (const n of [10, 11, 12, 13]) expect(await guard.firstSeen(sig(n), TS)).toBe(true);
    expect(await guard.firstSeen(sig(13), TS)).toBe(false);
    expect(await guard.firstSeen(sig(10), TS)).toBe(true); // forgotten: the oldest of four
    now += 302_000; // past the window of TS: nothing could accept these any more
    expect(await guard.firstSeen(sig(13), TS)).toBe(true);
  });
});
