import { describe, expect, it } from 'vitest';
import { BIGKEY_LIMITS, sampleBigKeys, type BigKeyLimits, type BigKeySource } from '../../../src/probes/redis-bigkeys.ts';

/**
 * The sampling's bounds, with a keyspace in memory behind the four commands it sends (SCAN walks
 * it `COUNT` keys a call) and a clock a test moves: which limit stops it, what it measured, and
 * that it never walks the whole keyspace. test/integration/commands/redis.test.ts does it for real.
 */
function keyspace(sizes: Map<string, number>) {
  const keys = [...sizes.keys()];
  const calls = { scan: 0, memory: 0, type: 0 };
  const source: BigKeySource = {
    dbsize: async () => keys.length,
    async scan(cursor, _m, pattern, _c, count) {
      calls.scan += 1;
      const from = Number(cursor);
      const prefix = pattern.replace(/\*$/, '');
      const page = keys.slice(from, from + count).filter((k) => k.startsWith(prefix));
      const next = from + count >= keys.length ? '0' : String(from + count);
      return [next, page];
    },
    async memory(_u, key) {
      calls.memory += 1;
      return sizes.get(key) ?? null;
    },
    async type() {
      calls.type += 1;
      return 'string';
    },
  };
  return { source, calls };
}

/** `n` small keys `small:<i>` of 50 bytes, with the given big ones spread among them. */
function withBig(n: number, big: Record<string, number>): Map<string, number> {
  const sizes = new Map<string, number>();
  const bigOnes = Object.entries(big);
  for (let i = 0; i < n; i++) {
    sizes.set(`small:${i}`, 50);
    const at = bigOnes.findIndex((_, j) => Math.floor(((j + 1) * n) / (bigOnes.length + 1)) === i);
    if (at >= 0) sizes.set(bigOnes[at]?.[0] ?? '', bigOnes[at]?.[1] ?? 0);
  }
  return sizes;
}

const limits = (over: Partial<BigKeyLimits>): BigKeyLimits => ({ ...BIGKEY_LIMITS, ...over });

describe('sampleBigKeys', () => {
  it('walks a small keyspace to the end and ranks every key: complete, exact', async () => {
    const { source } = keyspace(withBig(300, { 'big:a': 9000, 'big:b': 7000, 'big:c': 5000 }));
    const s = await sampleBigKeys(source, { pattern: '*', top: 3, limits: limits({ scanCount: 100 }) });
    expect(s.top).toEqual([
      { key: 'big:a', type: 'string', bytes: 9000 },
      { key: 'big:b', type: 'string', bytes: 7000 },
      { key: 'big:c', type: 'string', bytes: 5000 },
    ]);
    expect(s).toMatchObject({ dbsize: 303, sampled: 303, measured: 303, stoppedBy: 'end', complete: true, scanCalls: 4 });
  });

  it('stops at maxKeys, never measuring more, and says it is a sample', async () => {
    const { source, calls } = keyspace(withBig(10_000, { 'big:a': 9000 }));
    const s = await sampleBigKeys(source, { pattern: '*', top: 5, limits: limits({ scanCount: 300, maxKeys: 1000 }) });
    expect(s).toMatchObject({ sampled: 1000, measured: 1000, stoppedBy: 'keys', complete: false, scanCalls: 4 });
    expect(calls.memory).toBe(1000);
  });

  it('stops at maxScanCalls however sparse the matches', async () => {
    const { source, calls } = keyspace(withBig(100_000, {}));
    const s = await sampleBigKeys(source, { pattern: 'nothing:*', top: 5, limits: limits({ scanCount: 100, maxScanCalls: 20 }) });
    expect(s).toMatchObject({ sampled: 0, stoppedBy: 'calls', complete: false, scanCalls: 20, top: [] });
    expect(calls.scan).toBe(20);
  });

  it('stops scanning when its share of the time budget is spent', async () => {
    // Every look at the clock is 100 ms later: SCAN may use 60 % of the 1000 ms budget.
    let t = 0;
    const clock = () => (t += 100);
    const { source } = keyspace(withBig(100_000, {}));
    const s = await sampleBigKeys(source, { pattern: '*', top: 5, limits: limits({ scanCount: 10, budgetMs: 1000 }), clock });
    expect(s.stoppedBy).toBe('time');
    expect(s.scanCalls).toBeLessThanOrEqual(6);
    expect(s.complete).toBe(false);
  });

  it('sizes the first batch whatever the clock says, and no later batch past the budget', async () => {
    let t = 0;
    let clock = () => t;
    const { source, calls } = keyspace(withBig(1000, {}));
    const sizing = limits({ scanCount: 1000, batch: 100, budgetMs: 1000 });
    // Time stands still while scanning, then is up at once.
    const s = await sampleBigKeys(source, {
      pattern: '*',
      top: 5,
      limits: sizing,
      clock: () => clock(),
    });
    expect(s).toMatchObject({ measured: 1000, complete: true });
    clock = () => (t += 2000);
    const late = await sampleBigKeys(source, { pattern: '*', top: 5, limits: sizing, clock: () => clock() });
    expect(late).toMatchObject({ sampled: 1000, measured: 100, stoppedBy: 'time', complete: false });
    expect(calls.memory).toBe(1100);
  });

  it('leaves out keys gone between SCAN and MEMORY USAGE, and asks TYPE only for the top', async () => {
    const sizes = withBig(50, { 'big:a': 900 });
    const { source, calls } = keyspace(sizes);
    const vanishing: BigKeySource = { ...source, memory: async (u, key, s, n) => (key === 'small:0' ? null : source.memory(u, key, s, n)) };
    const s = await sampleBigKeys(vanishing, { pattern: '*', top: 2, limits: limits({ scanCount: 100 }) });
    expect(s).toMatchObject({ sampled: 51, measured: 50 });
    expect(s.top.map((k) => k.key)).toEqual(['big:a', 'small:1']);
    expect(calls.type).toBe(2);
  });

  it('counts a key SCAN returns twice once', async () => {
    const { source } = keyspace(withBig(10, {}));
    let first = true;
    const repeating: BigKeySource = {
      ...source,
      async scan(cursor, m, p, c, n) {
        const [next, keys] = await source.scan(cursor, m, p, c, n);
        if (first) {
          first = false;
          return [next, [...keys, ...keys]];
        }
        return [next, keys];
      },
    };
    expect((await sampleBigKeys(repeating, { pattern: '*', top: 1, limits: limits({ scanCount: 5 }) })).sampled).toBe(10);
  });

  it('refuses a reply that is not SCAN’s shape rather than guessing', async () => {
    const { source } = keyspace(withBig(10, {}));
    const broken = { ...source, scan: async () => ['0', 'not-a-list'] } as unknown as BigKeySource;
    await expect(sampleBigKeys(broken, { pattern: '*', top: 1 })).rejects.toThrow();
  });
});
