import { describe, expect, it } from 'vitest';
import { formatBytes, formatPercent } from '../../../src/core/format.ts';
import { HTTP_RULES } from '../../../src/probes/http-probe.ts';
import { POSTGRES_RULES } from '../../../src/probes/postgres-probe.ts';
import { queueRules, queueThresholdsFrom, queueValues } from '../../../src/probes/queue-probe.ts';
import type { Measurement, Reading } from '../../../src/probes/reading.ts';
import { REDIS_RULES } from '../../../src/probes/redis-probe.ts';
import { assess, evaluate, type ThresholdRule } from '../../../src/probes/thresholds.ts';

function values(v: Record<string, number>, facts: Record<string, string> = {}): Measurement {
  return { values: v, facts };
}

const MIB = 1024 * 1024;

describe('assess', () => {
  const rule: ThresholdRule = { measure: 'waiting', warnAt: 1000, failAt: 5000 };

  it('compares with ≥: exactly at a threshold counts as reaching it', () => {
    expect(assess(values({ waiting: 999 }), [rule])).toEqual({ status: 'ok', breaches: [] });
    expect(assess(values({ waiting: 1000 }), [rule])).toEqual({
      status: 'warn',
      breaches: [{ measure: 'waiting', status: 'warn', reason: 'waiting 1000 ≥ 1000' }],
    });
    expect(assess(values({ waiting: 4999 }), [rule]).status).toBe('warn');
    expect(assess(values({ waiting: 5000 }), [rule]).breaches).toEqual([
      { measure: 'waiting', status: 'fail', reason: 'waiting 5000 ≥ 5000' },
    ]);
  });

  it('skips a rule whose measure was not reported, rather than treating it as 0 or as a breach', () => {
    expect(assess(values({ active: 10_000 }), [rule])).toEqual({ status: 'ok', breaches: [] });
  });

  it('needs only one of warnAt and failAt', () => {
    expect(assess(values({ x: 7 }), [{ measure: 'x', failAt: 7 }]).status).toBe('fail');
    expect(assess(values({ x: 100 }), [{ measure: 'x', warnAt: 7 }]).status).toBe('warn');
  });

  it('lets the worst breach decide and keeps every reason, in rule order', () => {
    const rules: ThresholdRule[] = [
      { measure: 'a', warnAt: 1 },
      { measure: 'b', failAt: 1 },
      { measure: 'c', warnAt: 1 },
    ];
    const result = assess(values({ a: 2, b: 3, c: 0 }), rules);
    expect(result.status).toBe('fail');
    expect(result.breaches.map((b) => [b.measure, b.status])).toEqual([
      ['a', 'warn'],
      ['b', 'fail'],
    ]);
  });

  it('compares a ratio when the rule names what the value is "of"', () => {
    const ratio: ThresholdRule = { measure: 'used', of: 'max', warnAt: 0.8, failAt: 0.95, label: 'connections' };
    expect(assess(values({ used: 79, max: 100 }), [ratio]).status).toBe('ok');
    expect(assess(values({ used: 80, max: 100 }), [ratio]).breaches).toEqual([
      { measure: 'used', status: 'warn', reason: 'connections 80 of 100 (80%) ≥ 80%' },
    ]);
    expect(assess(values({ used: 95, max: 100 }), [ratio]).breaches).toEqual([
      { measure: 'used', status: 'fail', reason: 'connections 95 of 100 (95%) ≥ 95%' },
    ]);
  });

  it('skips a ratio whose limit is 0 (unlimited) or missing', () => {
    const ratio: ThresholdRule = { measure: 'used', of: 'max', failAt: 0.5 };
    expect(assess(values({ used: 10, max: 0 }), [ratio]).status).toBe('ok');
    expect(assess(values({ used: 10 }), [ratio]).status).toBe('ok');
  });

  it('prints bytes and durations in their units', () => {
    expect(assess(values({ mem: 9.6 * MIB, max: 10 * MIB }), [{ measure: 'mem', of: 'max', failAt: 0.95, label: 'memory', unit: 'bytes' }]).breaches[0]?.reason).toBe(
      'memory 9.6 MiB of 10.0 MiB (96%) ≥ 95%',
    );
    expect(assess(values({ age: 754_000 }), [{ measure: 'age', warnAt: 600_000, label: 'oldest waiting', unit: 'ms' }]).breaches[0]?.reason).toBe(
      'oldest waiting 12m ≥ 10m',
    );
  });

  it('judges a rule with onlyWhen only while the guarding measure reaches its minimum, and not when it is missing', () => {
    const rule: ThresholdRule = { measure: 'ratio', warnAt: 1.5, onlyWhen: { measure: 'wasted', atLeast: 100 } };
    expect(assess(values({ ratio: 9, wasted: 99 }), [rule]).status).toBe('ok');
    expect(assess(values({ ratio: 9 }), [rule]).status).toBe('ok');
    expect(assess(values({ ratio: 1.6, wasted: 100 }), [rule]).breaches).toEqual([{ measure: 'ratio', status: 'warn', reason: 'ratio 1.6 ≥ 1.5' }]);
    expect(assess(values({ ratio: 1.4, wasted: 1000 }), [rule]).status).toBe('ok');
  });

  it('fills a fixed reason from the measurement, values before facts', () => {
    const rule: ThresholdRule = { measure: 'bad', failAt: 1, reason: 'HTTP {status}, expected {expected}; {unknown} stays' };
    expect(assess(values({ bad: 1, status: 503 }, { expected: '2xx' }), [rule]).breaches[0]?.reason).toBe(
      'HTTP 503, expected 2xx; {unknown} stays',
    );
  });
});

describe('evaluate', () => {
  const base: Reading = { kind: 'queue', name: 'emails', values: { waiting: 3 }, facts: {}, durationMs: 4 };

  it('keeps the reading as plain data and adds status and breaches', () => {
    const evaluated = evaluate(base, [{ measure: 'waiting', warnAt: 3 }]);
    expect(evaluated).toEqual({ ...base, status: 'warn', breaches: [{ measure: 'waiting', status: 'warn', reason: 'waiting 3 ≥ 3' }] });
    expect(JSON.parse(JSON.stringify(evaluated))).toEqual(evaluated);
  });

  it('fails a reading that carries an error, whatever its values and rules', () => {
    const evaluated = evaluate({ ...base, error: 'Redis did not answer within 1000 ms' }, []);
    expect(evaluated.status).toBe('fail');
    expect(evaluated.breaches).toEqual([{ status: 'fail', reason: 'Redis did not answer within 1000 ms' }]);
  });
});

describe('the built-in rules', () => {
  it('Postgres: connections warn from 80 % and fail from 95 % of max_connections', () => {
    const at = (used: number) => assess(values({ connections_used: used, connections_max: 200 }), POSTGRES_RULES).status;
    expect([at(159), at(160), at(189), at(190), at(200)]).toEqual(['ok', 'warn', 'warn', 'fail', 'fail']);
  });

  it('Redis: memory like Postgres connections, only when maxmemory is set', () => {
    const at = (used: number, max: number) =>
      assess(values({ memory_used_bytes: used, memory_max_bytes: max, can_evict: 0 }), REDIS_RULES).status;
    expect([at(79, 100), at(80, 100), at(95, 100), at(5000 * MIB, 0)]).toEqual(['ok', 'warn', 'fail', 'ok']);
  });

  it('Redis: a policy that can evict BullMQ keys is a warning naming the policy', () => {
    const result = assess(values({ memory_used_bytes: 1, memory_max_bytes: 100, can_evict: 1 }, { eviction_policy: 'allkeys-lru' }), REDIS_RULES);
    expect(result.breaches).toEqual([{ measure: 'can_evict', status: 'warn', reason: 'maxmemory-policy allkeys-lru can evict BullMQ jobs' }]);
  });

  it('HTTP: an unexpected status fails, saying what was expected', () => {
    expect(assess(values({ status: 200, unexpected_status: 0 }, { expected: '2xx' }), HTTP_RULES).status).toBe('ok');
    expect(assess(values({ status: 302, unexpected_status: 1 }, { expected: '2xx' }), HTTP_RULES).breaches).toEqual([
      { measure: 'unexpected_status', status: 'fail', reason: 'HTTP 302, expected 2xx' },
    ]);
  });

  it('queues: waiting (prioritized included), failed and paused warn', () => {
    const rules = queueRules({ waiting: 1000, failed: 5 });
    const counts = { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0, prioritized: 0, paused: false };
    expect(assess(values(queueValues(counts, null)), rules)).toEqual({ status: 'ok', breaches: [] });
    const busy = queueValues({ ...counts, waiting: 600, prioritized: 400, failed: 5, paused: true }, 1234);
    expect(busy).toMatchObject({ waiting: 1000, prioritized: 400, paused: 1, oldest_waiting_ms: 1234 });
    expect(assess(values(busy), rules).breaches.map((b) => [b.status, b.reason])).toEqual([
      ['warn', 'waiting 1000 ≥ 1000'],
      ['warn', 'failed 5 ≥ 5'],
      ['warn', 'paused'],
    ]);
  });

  it('queues: the configured defaults, overridden per queue', () => {
    const thresholdsFor = queueThresholdsFrom({
      thresholds: { waiting: 1000, failed: 1 },
      queues: { emails: { waiting: 50 }, reports: { failed: 10, waiting: undefined } },
    });
    expect(thresholdsFor('emails')).toEqual({ waiting: 50, failed: 1 });
    expect(thresholdsFor('reports')).toEqual({ waiting: 1000, failed: 10 });
    expect(thresholdsFor('other')).toEqual({ waiting: 1000, failed: 1 });
  });
});

describe('formatBytes', () => {
  it('picks the unit that keeps the number at least 1', () => {
    expect([formatBytes(0), formatBytes(1023), formatBytes(1024), formatBytes(1536 * 1024), formatBytes(3 * 1024 ** 3), formatBytes(-1)]).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '1.5 MiB',
      '3.0 GiB',
      'unknown',
    ]);
  });
});

describe('formatPercent', () => {
  it('rounds down, so a ratio below a threshold never prints as reaching it', () => {
    expect([formatPercent(0.8), formatPercent(0.9499), formatPercent(0.29), formatPercent(1)]).toEqual(['80%', '94.9%', '29%', '100%']);
  });
});
