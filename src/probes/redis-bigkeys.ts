import { z } from 'zod';
import { elapsedMs } from '../core/timeout.ts';

/**
 * The biggest keys of a sample, never of a full SCAN: on the request path a full walk of a
 * million keys would take seconds and load Redis, so SCAN stops at whichever limit comes first
 * (calls, keys, time), and only the keys it returned are sized with MEMORY USAGE, in batches,
 * until the time budget is spent. The answer says how much it looked at.
 */

/** What sampling sends; an ioredis client satisfies it. */
export interface BigKeySource {
  dbsize(): Promise<number>;
  scan(cursor: string, matchToken: 'MATCH', pattern: string, countToken: 'COUNT', count: number): Promise<[cursor: string, elements: string[]]>;
  memory(subcommand: 'USAGE', key: string, samplesToken: 'SAMPLES', count: number): Promise<number | null>;
  type(key: string): Promise<string>;
}

export interface BigKeyLimits {
  /** SCAN's COUNT hint: hash buckets walked per call. */
  scanCount: number;
  maxScanCalls: number;
  maxKeys: number;
  /** Sampling and sizing together; SCAN stops at SCAN_SHARE of it so sizing has the rest. */
  budgetMs: number;
  /** MEMORY USAGE SAMPLES: nested values sampled per key (0 would walk a whole big hash). */
  memorySamples: number;
  /** MEMORY USAGE calls sent together between two looks at the clock. */
  batch: number;
}

/** Bounded for a million keys: ≤ 100 SCAN calls or 10,000 keys, about a second in all. */
export const BIGKEY_LIMITS: BigKeyLimits = { scanCount: 500, maxScanCalls: 100, maxKeys: 10_000, budgetMs: 1000, memorySamples: 5, batch: 250 };
const SCAN_SHARE = 0.6;

/** Why SCAN stopped: it came back to cursor 0 (`end`, every matching key seen) or hit a limit. */
export type ScanStop = 'end' | 'keys' | 'calls' | 'time';

export interface BigKey {
  key: string;
  type: string;
  bytes: number;
}

export interface BigKeySample {
  pattern: string;
  /** Keys in the database (DBSIZE) when sampling began. */
  dbsize: number;
  scanCalls: number;
  /** Distinct keys SCAN returned (at most maxKeys). */
  sampled: number;
  /** Of those, sized with MEMORY USAGE before the budget ran out (keys gone since are left out). */
  measured: number;
  stoppedBy: ScanStop;
  /** Every matching key was seen and sized: the top is exact, not a sample's. */
  complete: boolean;
  elapsedMs: number;
  limits: BigKeyLimits;
  top: BigKey[];
}

const scanReply = z.tuple([z.string(), z.array(z.string())]);
const sizeReply = z.number().int().nonnegative().nullable();

export interface SampleOptions {
  pattern: string;
  top: number;
  limits?: BigKeyLimits;
  /** Milliseconds, for the budget; tests pass a clock that jumps. */
  clock?: () => number;
}

export async function sampleBigKeys(redis: BigKeySource, opts: SampleOptions): Promise<BigKeySample> {
  const limits = opts.limits ?? BIGKEY_LIMITS;
  const clock = opts.clock ?? (() => performance.now());
  const startedAt = performance.now();
  const start = clock();
  const dbsize = z.number().int().nonnegative().parse(await redis.dbsize());
  const scan = await scanSample(redis, opts.pattern, limits, clock, start + limits.budgetMs * SCAN_SHARE);
  const sized = await sizeKeys(redis, scan.keys, limits, clock, start + limits.budgetMs);
  const biggest = sized.sizes.sort((a, b) => b.bytes - a.bytes).slice(0, opts.top);
  const types = await Promise.all(biggest.map((k) => redis.type(k.key)));
  return {
    pattern: opts.pattern,
    dbsize,
    scanCalls: scan.calls,
    sampled: scan.keys.length,
    measured: sized.sizes.length,
    stoppedBy: sized.outOfTime ? 'time' : scan.stoppedBy,
    complete: scan.stoppedBy === 'end' && !sized.outOfTime,
    elapsedMs: elapsedMs(startedAt),
    limits,
    top: biggest.map((k, i) => ({ ...k, type: z.string().parse(types[i]) })),
  };
}

async function scanSample(redis: BigKeySource, pattern: string, limits: BigKeyLimits, clock: () => number, deadline: number) {
  // SCAN may return a key twice (the table can be resized between calls): count each once.
  const seen = new Set<string>();
  let cursor = '0';
  let calls = 0;
  for (;;) {
    const [next, keys] = scanReply.parse(await redis.scan(cursor, 'MATCH', pattern, 'COUNT', limits.scanCount));
    calls += 1;
    cursor = next;
    let dropped = false;
    for (const key of keys) {
      if (seen.size < limits.maxKeys) seen.add(key);
      else if (!seen.has(key)) dropped = true;
    }
    let stoppedBy: ScanStop | null = null;
    if (dropped) stoppedBy = 'keys';
    else if (cursor === '0') stoppedBy = 'end';
    else if (seen.size >= limits.maxKeys) stoppedBy = 'keys';
    else if (calls >= limits.maxScanCalls) stoppedBy = 'calls';
    else if (clock() >= deadline) stoppedBy = 'time';
    if (stoppedBy) return { keys: [...seen], calls, stoppedBy };
  }
}

/** MEMORY USAGE per key, a batch at a time; the first batch always runs, later ones only within the budget. */
async function sizeKeys(redis: BigKeySource, keys: string[], limits: BigKeyLimits, clock: () => number, deadline: number) {
  const sizes: Array<{ key: string; bytes: number }> = [];
  for (let i = 0; i < keys.length; i += limits.batch) {
    if (i > 0 && clock() >= deadline) return { sizes, outOfTime: true };
    const batch = keys.slice(i, i + limits.batch);
    // Sent together: one write, one round trip on an auto-pipelining client.
    const bytes = await Promise.all(batch.map((key) => redis.memory('USAGE', key, 'SAMPLES', limits.memorySamples)));
    batch.forEach((key, j) => {
      const size = sizeReply.parse(bytes[j]);
      // null: the key expired or was deleted since SCAN returned it.
      if (size !== null) sizes.push({ key, bytes: size });
    });
  }
  return { sizes, outOfTime: false };
}
