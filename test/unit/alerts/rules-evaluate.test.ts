import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../../src/alerts/alertmanager.ts';
import { applyNotification, type AlertGroup } from '../../../src/alerts/group.ts';
import { notificationSchema, type Notification } from '../../../src/alerts/notification.ts';
import { evaluateRules, type RuleState } from '../../../src/alerts/rules/evaluate.ts';
import { fileSchema, type AlertRule } from '../../../src/config/file.ts';
import type { EvaluatedReading } from '../../../src/probes/reading.ts';
import { measureRedis } from '../../../src/probes/redis-probe.ts';
import { CFG } from './fixtures.ts';

/**
 * Vigil's own alert rules, one evaluation at a time: readings built by hand, the clock passed in,
 * the state carried from one evaluation to the next as the schedule does (through JSON, as Redis).
 */
const T0 = Date.parse('2026-11-26T10:00:00Z');
const S = 1000;
const iso = (ms: number) => new Date(ms).toISOString();

/** Through the real config schema, so durations are parsed the way operators' YAML is. */
function rules(...raw: Record<string, unknown>[]): AlertRule[] {
  const parsed = fileSchema.parse({ alerts: { channels: { default: 'C0DEFAULT' }, rules: raw } }).alerts;
  if (!parsed) throw new Error('alerts config missing');
  return parsed.rules;
}

function reading(kind: string, name: string, values: Record<string, number>, error?: string): EvaluatedReading {
  return { kind, name, values, facts: {}, durationMs: 3, status: error ? 'fail' : 'ok', breaches: [], ...(error === undefined ? {} : { error }) };
}
const queue = (name: string, values: Record<string, number>) => reading('queue', name, values);

const BACKLOG = { name: 'Backlog', severity: 'warning', probe: 'queue', measure: 'waiting', above: 1000 };

/** The schedule's loop without Redis: each evaluation starts from the state the last one saved. */
function evaluator(rs: AlertRule[], initial: RuleState = {}) {
  let state = initial;
  return {
    at(now: number, readings: EvaluatedReading[]): Notification[] {
      const { next, notifications } = evaluateRules(rs, readings, state, now);
      state = JSON.parse(JSON.stringify(next)) as RuleState;
      expect(state).toEqual(next);
      for (const n of notifications) notificationSchema.parse(n);
      return notifications;
    },
    get state() {
      return state;
    },
  };
}

/**
 * An evaluator past the rule's first evaluation (which always sends the rule's snapshot), so tests
 * see only what their own readings cause.
 */
function settled(rs: AlertRule[], baseline: EvaluatedReading[] = []) {
  const e = evaluator(rs);
  e.at(T0 - 60 * S, baseline);
  return e;
}

const firingTargets = (n: Notification | undefined) => (n?.alerts ?? []).filter((a) => a.status === 'firing').map((a) => a.labels.target);
const resolvedTargets = (n: Notification | undefined) => (n?.alerts ?? []).filter((a) => a.status === 'resolved').map((a) => a.labels.target);

describe('a rule over a probe value', () => {
  it('fires as one alert group with the labels, annotations and start an on-call engineer expects', () => {
    const e = settled(rules({ ...BACKLOG, description: 'Emails pile up', runbook_url: 'https://runbooks.example/backlog' }));
    const [n, ...more] = e.at(T0, [queue('emails', { waiting: 1200, active: 2 })]);
    expect(more).toEqual([]);
    const labels = { alertname: 'Backlog', severity: 'warning', probe: 'queue', target: 'emails' };
    expect(n).toEqual({
      source: 'vigil',
      receiver: 'vigil-rules',
      groupKey: 'vigil-rule:Backlog',
      status: 'firing',
      groupLabels: { alertname: 'Backlog' },
      commonLabels: labels,
      commonAnnotations: {
        summary: 'queue emails: waiting 1200 > 1000',
        description: 'Emails pile up',
        runbook_url: 'https://runbooks.example/backlog',
      },
      externalURL: null,
      truncatedAlerts: 0,
      alerts: [
        {
          fingerprint: fingerprintOf(labels),
          status: 'firing',
          labels,
          annotations: { summary: 'queue emails: waiting 1200 > 1000', description: 'Emails pile up', runbook_url: 'https://runbooks.example/backlog' },
          startsAt: iso(T0),
          endsAt: null,
          generatorURL: null,
        },
      ],
    });
  });

  it('uses the rule summary when it has one', () => {
    const e = settled(rules({ ...BACKLOG, summary: 'Emails are stuck' }));
    const [n] = e.at(T0, [queue('emails', { waiting: 1200 })]);
    expect(n?.alerts[0]?.annotations).toEqual({ summary: 'Emails are stuck' });
  });

  it('does not notify again while it keeps firing and only the measured value moves', () => {
    const e = settled(rules(BACKLOG));
    expect(e.at(T0, [queue('emails', { waiting: 1200 })])).toHaveLength(1);
    expect(e.at(T0 + 15 * S, [queue('emails', { waiting: 1500 })])).toEqual([]);
    expect(e.at(T0 + 30 * S, [queue('emails', { waiting: 1300 })])).toEqual([]);
    // What Slack shows is still what was sent.
    expect(e.state.Backlog?.emails?.sent?.annotations.summary).toBe('queue emails: waiting 1200 > 1000');
  });

  it('compares strictly: at the threshold is not above it, and `below` fires under its number', () => {
    const e = settled(rules(BACKLOG, { name: 'Slow', severity: 'warning', probe: 'http', measure: 'status', below: 200 }));
    expect(e.at(T0, [queue('emails', { waiting: 1000 }), reading('http', 'api', { status: 200 })])).toEqual([]);
    const [n] = e.at(T0 + 15 * S, [queue('emails', { waiting: 1000 }), reading('http', 'api', { status: 101 })]);
    expect(n?.groupKey).toBe('vigil-rule:Slow');
    expect(n?.alerts[0]?.annotations.summary).toBe('http api: status 101 < 200');
  });

  it('resolves once the condition clears: the alert appears once as resolved, then is forgotten', () => {
    const e = settled(rules(BACKLOG));
    e.at(T0, [queue('emails', { waiting: 1200 })]);
    const [n] = e.at(T0 + 15 * S, [queue('emails', { waiting: 10 })]);
    expect(n).toMatchObject({ status: 'resolved', groupKey: 'vigil-rule:Backlog', truncatedAlerts: 0 });
    expect(n?.alerts).toHaveLength(1);
    expect(n?.alerts[0]).toMatchObject({ status: 'resolved', startsAt: iso(T0), endsAt: iso(T0 + 15 * S), labels: { target: 'emails' } });
    expect(e.state).toEqual({ Backlog: {} });
    expect(e.at(T0 + 30 * S, [queue('emails', { waiting: 10 })])).toEqual([]);
  });
});

describe('for and cooldown', () => {
  const rule = rules({ ...BACKLOG, for: '30s', cooldown: '1m' });

  it('fires only once the condition has held for `for`, starting then', () => {
    const e = settled(rule);
    expect(e.at(T0, [queue('emails', { waiting: 1200 })])).toEqual([]);
    expect(e.state.Backlog?.emails?.pendingSince).toBe(T0);
    expect(e.at(T0 + 15 * S, [queue('emails', { waiting: 1200 })])).toEqual([]);
    const [n] = e.at(T0 + 30 * S, [queue('emails', { waiting: 1200 })]);
    expect(firingTargets(n)).toEqual(['emails']);
    expect(n?.alerts[0]?.startsAt).toBe(iso(T0 + 30 * S));
  });

  it('starts over when the condition clears while pending', () => {
    const e = settled(rule);
    e.at(T0, [queue('emails', { waiting: 1200 })]);
    expect(e.at(T0 + 15 * S, [queue('emails', { waiting: 5 })])).toEqual([]);
    expect(e.at(T0 + 30 * S, [queue('emails', { waiting: 1200 })])).toEqual([]);
    expect(e.at(T0 + 45 * S, [queue('emails', { waiting: 1200 })])).toEqual([]);
    expect(firingTargets(e.at(T0 + 60 * S, [queue('emails', { waiting: 1200 })])[0])).toEqual(['emails']);
  });

  it('keeps firing until the condition has stayed clear for `cooldown`; flapping back restarts the countdown', () => {
    const e = settled(rule);
    e.at(T0, [queue('emails', { waiting: 1200 })]);
    e.at(T0 + 30 * S, [queue('emails', { waiting: 1200 })]);
    expect(e.at(T0 + 45 * S, [queue('emails', { waiting: 5 })])).toEqual([]);
    expect(e.at(T0 + 90 * S, [queue('emails', { waiting: 5 })])).toEqual([]);
    // Back over before the minute is up: still the same firing alert, nothing sent.
    expect(e.at(T0 + 100 * S, [queue('emails', { waiting: 1200 })])).toEqual([]);
    expect(e.at(T0 + 120 * S, [queue('emails', { waiting: 5 })])).toEqual([]);
    expect(e.at(T0 + 175 * S, [queue('emails', { waiting: 5 })])).toEqual([]);
    const [n] = e.at(T0 + 180 * S, [queue('emails', { waiting: 5 })]);
    expect(n?.status).toBe('resolved');
    expect(n?.alerts[0]).toMatchObject({ status: 'resolved', startsAt: iso(T0 + 30 * S), endsAt: iso(T0 + 180 * S) });
  });
});

describe('rising, down and ratios', () => {
  it('rising: the first evaluation is a baseline; fires while the value grows, resolves when it stops', () => {
    const e = evaluator(rules({ name: 'FailuresGrow', severity: 'warning', probe: 'queue', measure: 'failed', rising: true }));
    const [first] = e.at(T0, [queue('emails', { failed: 5 })]);
    expect(first).toMatchObject({ status: 'resolved', alerts: [] });
    expect(e.at(T0 + 15 * S, [queue('emails', { failed: 5 })])).toEqual([]);
    const [n] = e.at(T0 + 30 * S, [queue('emails', { failed: 7 })]);
    expect(firingTargets(n)).toEqual(['emails']);
    expect(n?.alerts[0]?.annotations.summary).toBe('queue emails: failed rising (5 → 7)');
    expect(e.at(T0 + 45 * S, [queue('emails', { failed: 9 })])).toEqual([]);
    expect(resolvedTargets(e.at(T0 + 60 * S, [queue('emails', { failed: 9 })])[0])).toEqual(['emails']);
  });

  it('rising: a value missing for a while compares with the last one known', () => {
    const e = settled(rules({ name: 'FailuresGrow', severity: 'warning', probe: 'queue', measure: 'failed', rising: true }));
    e.at(T0, [queue('emails', { failed: 5 })]);
    expect(e.at(T0 + 15 * S, [queue('emails', {})])).toEqual([]);
    expect(firingTargets(e.at(T0 + 30 * S, [queue('emails', { failed: 6 })])[0])).toEqual(['emails']);
  });

  it('down: fires while the probe cannot measure, with the reason, and resolves when it measures again', () => {
    const e = settled(rules({ name: 'ApiDown', severity: 'critical', probe: 'http', down: true }));
    const [n] = e.at(T0, [reading('http', 'api', {}, 'connect ECONNREFUSED'), reading('http', 'web', { status: 200 })]);
    expect(firingTargets(n)).toEqual(['api']);
    expect(n?.alerts[0]?.annotations.summary).toBe('http api: down (connect ECONNREFUSED)');
    expect(n?.commonLabels).toEqual({ alertname: 'ApiDown', severity: 'critical', probe: 'http', target: 'api' });
    expect(resolvedTargets(e.at(T0 + 15 * S, [reading('http', 'api', { status: 200 }), reading('http', 'web', { status: 200 })])[0])).toEqual(['api']);
  });

  it('ratioTo compares measure / divisor, and a divisor of 0 or none is unknown, not ok', () => {
    const e = settled(
      rules(
        { name: 'PgConnections', severity: 'critical', probe: 'postgres', measure: 'connections_used', ratioTo: 'connections_max', above: 0.8 },
        { name: 'RedisMemory', severity: 'warning', probe: 'redis', measure: 'memory_used_bytes', ratioTo: 'memory_max_bytes', above: 0.9 },
      ),
    );
    const pg = (used: number, max?: number) => reading('postgres', 'Postgres', max === undefined ? { connections_used: used } : { connections_used: used, connections_max: max });
    // Redis without maxmemory: no ratio to judge, whatever it uses.
    const redis = reading('redis', 'Redis', { memory_used_bytes: 9e9, memory_max_bytes: 0 });
    expect(e.at(T0, [pg(80, 100), redis])).toEqual([]);
    const [n] = e.at(T0 + 15 * S, [pg(85, 100), redis]);
    expect(n?.alerts[0]?.annotations.summary).toBe('postgres Postgres: connections_used/connections_max 0.85 > 0.8');
    expect(e.at(T0 + 30 * S, [pg(10), redis])).toEqual([]);
    expect(e.at(T0 + 45 * S, [pg(10, 0), redis])).toEqual([]);
    expect(e.state.PgConnections?.Postgres?.firingSince).toBe(T0 + 15 * S);
    expect(e.state.RedisMemory).toEqual({});
  });
});

describe('rules on what the Redis probe reads from INFO', () => {
  const INFO = readFileSync(new URL('../../fixtures/redis/info-master.txt', import.meta.url), 'utf8');
  /** The probe's own measurement of a patched INFO, as a reading the schedule would hand the rules. */
  async function redisReading(patch: (info: string) => string): Promise<EvaluatedReading> {
    const measured = await measureRedis({ ping: async () => 'PONG', info: async () => patch(INFO) });
    return reading('redis', 'Redis', measured.values);
  }

  it('fires on evictions rising and on a hit ratio below a floor, and says the numbers', async () => {
    const e = settled(
      rules(
        { name: 'RedisEvicting', severity: 'critical', probe: 'redis', measure: 'evicted_keys', rising: true },
        { name: 'RedisHitRatioLow', severity: 'warning', probe: 'redis', measure: 'keyspace_hit_ratio', below: 0.5 },
      ),
    );
    // The fixture: 0 evicted, 1 hit and 2 misses (a third).
    const before = await redisReading((t) => t.replace('keyspace_hits:1', 'keyspace_hits:9'));
    expect(e.at(T0, [before])).toEqual([]);
    const after = await redisReading((t) => t.replace('evicted_keys:0', 'evicted_keys:42'));
    const fired = e.at(T0 + 15 * S, [after]);
    expect(fired.map((n) => [n.groupKey, n.alerts[0]?.annotations.summary])).toEqual([
      ['vigil-rule:RedisEvicting', 'redis Redis: evicted_keys rising (0 → 42)'],
      ['vigil-rule:RedisHitRatioLow', 'redis Redis: keyspace_hit_ratio 0.333 < 0.5'],
    ]);
  });
});

describe('which targets a rule judges', () => {
  it('applies to every target of its probe, or only to `target`', () => {
    const e = settled(rules(BACKLOG, { ...BACKLOG, name: 'EmailsOnly', target: 'emails' }));
    const out = e.at(T0, [queue('emails', { waiting: 2000 }), queue('reports', { waiting: 3000 }), reading('http', 'emails', { waiting: 5000 })]);
    expect(out.map((n) => [n.groupKey, firingTargets(n)])).toEqual([
      ['vigil-rule:Backlog', ['emails', 'reports']],
      ['vigil-rule:EmailsOnly', ['emails']],
    ]);
    // Several targets: one group, the target is no longer a common label.
    expect(out[0]?.commonLabels).toEqual({ alertname: 'Backlog', severity: 'warning', probe: 'queue' });
    expect(out[0]?.status).toBe('firing');
  });

  it('a target that joins or leaves re-sends the group: the others stay firing with their start', () => {
    const e = settled(rules(BACKLOG));
    e.at(T0, [queue('emails', { waiting: 2000 }), queue('reports', { waiting: 10 })]);
    const [joined] = e.at(T0 + 15 * S, [queue('emails', { waiting: 2100 }), queue('reports', { waiting: 3000 })]);
    expect(firingTargets(joined)).toEqual(['emails', 'reports']);
    expect(joined?.alerts.map((a) => a.startsAt)).toEqual([iso(T0), iso(T0 + 15 * S)]);
    const [left] = e.at(T0 + 30 * S, [queue('emails', { waiting: 2100 }), queue('reports', { waiting: 1 })]);
    expect(left?.status).toBe('firing');
    expect(firingTargets(left)).toEqual(['emails']);
    expect(resolvedTargets(left)).toEqual(['reports']);
  });

  it('a reading without the measure (probe failed, value unknown) neither fires nor resolves', () => {
    const e = settled(rules({ ...BACKLOG, for: '30s' }));
    e.at(T0, [queue('emails', { waiting: 2000 }), queue('reports', { waiting: 2000 })]);
    e.at(T0 + 30 * S, [queue('emails', { waiting: 2000 }), queue('reports', { waiting: 2000 })]);
    expect(Object.keys(e.state.Backlog ?? {})).toEqual(['emails', 'reports']);
    // emails: firing, then unmeasurable; reports firing; a new queue pending then unmeasurable.
    expect(
      e.at(T0 + 45 * S, [reading('queue', 'emails', {}, 'timed out'), queue('reports', { waiting: 2000 }), queue('new', { waiting: 5000 })]),
    ).toEqual([]);
    expect(e.at(T0 + 90 * S, [reading('queue', 'emails', {}, 'timed out'), queue('reports', { waiting: 2000 }), queue('new', {})])).toEqual([]);
    expect(e.state.Backlog?.emails?.firingSince).toBe(T0 + 30 * S);
    expect(e.state.Backlog?.new?.firingSince).toBeNull();
  });

  it('a target that disappeared resolves at once, cooldown or not', () => {
    const e = settled(rules({ ...BACKLOG, cooldown: '10m' }));
    e.at(T0, [queue('emails', { waiting: 2000 }), queue('reports', { waiting: 2000 })]);
    const [n] = e.at(T0 + 15 * S, [queue('reports', { waiting: 2000 })]);
    expect(resolvedTargets(n)).toEqual(['emails']);
    expect(firingTargets(n)).toEqual(['reports']);
    expect(Object.keys(e.state.Backlog ?? {})).toEqual(['reports']);
  });

  it('but not when the probe could not list its targets (queue discovery failed)', () => {
    const e = settled(rules(BACKLOG));
    e.at(T0, [queue('emails', { waiting: 2000 })]);
    expect(e.at(T0 + 15 * S, [reading('queue', 'BullMQ queues', {}, 'Redis did not answer')])).toEqual([]);
    expect(e.state.Backlog?.emails?.firingSince).toBe(T0);
  });
});

describe('the rule set over time', () => {
  it("a rule's first evaluation sends its snapshot even when nothing fires (resolves what a lost state left firing)", () => {
    const e = evaluator(rules(BACKLOG));
    expect(e.at(T0, [queue('emails', { waiting: 1 })])).toEqual([
      expect.objectContaining({
        groupKey: 'vigil-rule:Backlog',
        status: 'resolved',
        alerts: [],
        truncatedAlerts: 0,
        commonLabels: { alertname: 'Backlog', severity: 'warning', probe: 'queue' },
      }),
    ]);
    expect(e.at(T0 + 15 * S, [queue('emails', { waiting: 1 })])).toEqual([]);
  });

  it('a rule removed from the config resolves what it had firing, once', () => {
    const before = settled(rules(BACKLOG));
    before.at(T0, [queue('emails', { waiting: 2000 })]);
    const after = evaluator(rules({ ...BACKLOG, name: 'Other' }), before.state);
    const out = after.at(T0 + 15 * S, [queue('emails', { waiting: 2000 })]);
    const removed = out.find((n) => n.groupKey === 'vigil-rule:Backlog');
    expect(removed).toMatchObject({ status: 'resolved', commonLabels: { alertname: 'Backlog', severity: 'warning', probe: 'queue', target: 'emails' } });
    expect(resolvedTargets(removed)).toEqual(['emails']);
    expect(after.state.Backlog).toBeUndefined();
    expect(after.at(T0 + 30 * S, [queue('emails', { waiting: 2000 })])).toEqual([]);
  });

  it('a rule whose severity changed resolves the old alert and fires the relabelled one', () => {
    const before = settled(rules(BACKLOG));
    before.at(T0, [queue('emails', { waiting: 2000 })]);
    const after = evaluator(rules({ ...BACKLOG, severity: 'critical' }), before.state);
    const [n] = after.at(T0 + 15 * S, [queue('emails', { waiting: 2000 })]);
    expect(n?.alerts.map((a) => [a.labels.severity, a.status])).toEqual(
      expect.arrayContaining([
        ['warning', 'resolved'],
        ['critical', 'firing'],
      ]),
    );
    expect(after.at(T0 + 30 * S, [queue('emails', { waiting: 2000 })])).toEqual([]);
  });
});

describe('through the alert pipeline (applyNotification)', () => {
  let id = 1;
  function apply(prev: AlertGroup | null, n: Notification, now: number): AlertGroup {
    const applied = applyNotification(prev, n, { groupId: 'rule-group', notificationId: id++, now, cfg: CFG });
    if ('superseded' in applied) throw new Error('unexpectedly superseded');
    return applied.next;
  }

  it('a group left firing by a lost state resolves on the next evaluation', () => {
    const e = settled(rules(BACKLOG));
    const [fired] = e.at(T0, [queue('emails', { waiting: 2000 })]);
    if (!fired) throw new Error('expected a notification');
    const group = apply(null, fired, T0);
    expect(group.status).toBe('firing');

    // The state is gone (evicted, corrupt) while the queue has recovered.
    const [fresh] = evaluator(rules(BACKLOG)).at(T0 + 15 * S, [queue('emails', { waiting: 3 })]);
    if (!fresh) throw new Error('expected a notification');
    const after = apply(group, fresh, T0 + 15 * S);
    expect(after.status).toBe('resolved');
    expect(Object.values(after.view.alerts).map((a) => a.status)).toEqual(['resolved']);
  });
});
