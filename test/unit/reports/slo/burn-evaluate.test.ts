import { describe, expect, it } from 'vitest';
import { notificationSchema, type Notification } from '../../../../src/alerts/notification.ts';
import { fileSchema } from '../../../../src/config/file.ts';
import { burnGroupKey, evaluateBurnAlerts, EMPTY_BURN_STATE, type BurnState } from '../../../../src/reports/slo/burn-evaluate.ts';
import { PrometheusError, type PrometheusClient } from '../../../../src/reports/slo/prometheus-client.ts';
import type { SloSpec } from '../../../../src/reports/slo/slo-config.ts';
import { readSloStatuses, withWindow, type SloStatus } from '../../../../src/reports/slo/slo-status.ts';

/**
 * Burn-rate alerts one evaluation at a time: a Prometheus that answers from a table (error and
 * request rates per window), the clock passed in, the state carried through JSON as Redis carries it.
 */
const T0 = Date.parse('2026-11-26T10:00:00Z');
const S = 1000;

function slos(raw: Record<string, unknown>): SloSpec[] {
  const parsed = fileSchema.parse({ slos: raw }).slos;
  if (!parsed) throw new Error('no slos');
  return parsed;
}

const API = slos({
  api: {
    objective: 99,
    window: '1h',
    errors: 'sum(rate(errors_total[$window]))',
    total: 'sum(rate(requests_total[$window]))',
    burnAlerts: [{ long: '1m', short: '20s', factor: 2, severity: 'critical' }],
  },
});

const FAST = API[0]?.burnAlerts[0];
if (!FAST) throw new Error('no burn alert');

/** Error share per window (requests at 100/s); a window left out has no traffic; `down`: no answer at all. */
function prometheus(share: Record<string, number>, down = false): PrometheusClient {
  return {
    shown: 'http://prometheus.test:9090/',
    async instant(query) {
      if (down) throw new PrometheusError('unreachable', 'Prometheus at http://prometheus.test:9090/ did not answer (ECONNREFUSED)');
      const window = /\[(\w+)\]/.exec(query)?.[1] ?? '';
      const s = share[window];
      if (s === undefined) return null;
      return query.startsWith('sum(rate(errors_total') ? 100 * s : 100;
    },
  };
}

function evaluator(specs: SloSpec[]) {
  let state: BurnState = EMPTY_BURN_STATE;
  return {
    async at(now: number, prom: PrometheusClient): Promise<{ notifications: Notification[]; statuses: SloStatus[]; prometheus: unknown }> {
      // As the schedule reads them: the burn windows only.
      const statuses = await readSloStatuses({ slos: specs, prometheus: prom, now: () => now, budget: false });
      const { next, notifications, prometheus: change } = evaluateBurnAlerts(specs, statuses, state, now);
      state = JSON.parse(JSON.stringify(next)) as BurnState;
      for (const n of notifications) notificationSchema.parse(n);
      return { notifications, statuses, prometheus: change };
    },
    get state() {
      return state;
    },
  };
}

const firing = (n: Notification | undefined) => (n?.alerts ?? []).filter((a) => a.status === 'firing');
const resolved = (n: Notification | undefined) => (n?.alerts ?? []).filter((a) => a.status === 'resolved');

describe('reading an SLO from Prometheus', () => {
  it('puts each window into $window and turns the rates into compliance, budget and burn rates', async () => {
    expect(withWindow('sum(rate(x[$window])) / sum(rate(y[$window]))', '5m')).toBe('sum(rate(x[5m])) / sum(rate(y[5m]))');
    const asked: string[] = [];
    const prom = prometheus({ '1h': 0.005, '1m': 0.05, '20s': 0.03 });
    const spy: PrometheusClient = { shown: prom.shown, instant: (q, at) => (asked.push(q), prom.instant(q, at)) };
    const [s] = await readSloStatuses({ slos: API, prometheus: spy, now: () => T0 });
    expect(asked.sort()).toEqual(
      ['errors_total[1h]', 'errors_total[1m]', 'errors_total[20s]', 'requests_total[1h]', 'requests_total[1m]', 'requests_total[20s]'].map((w) => `sum(rate(${w}))`).sort(),
    );
    expect(s?.errorRatio).toBeCloseTo(0.005, 9);
    expect(s?.compliance).toBeCloseTo(0.995, 9);
    expect(s?.budgetRemaining).toBeCloseTo(0.5, 9);
    expect(s?.burnRates[0]?.longRate).toBeCloseTo(5, 9);
    expect(s?.burnRates[0]?.shortRate).toBeCloseTo(3, 9);
    expect(s?.status).toBe('burning');

    // For the alerts only: the burn windows, never the SLO's own (costly over 30 days).
    asked.length = 0;
    const [burnOnly] = await readSloStatuses({ slos: API, prometheus: spy, now: () => T0, budget: false });
    expect(asked.filter((q) => q.includes('[1h]'))).toEqual([]);
    expect(asked).toHaveLength(4);
    expect(burnOnly).toMatchObject({ status: 'burning', errorRatio: null, budgetRemaining: null });
  });

  it('says exhausted once the budget is spent, no data without traffic, unknown without an answer', async () => {
    expect((await readSloStatuses({ slos: API, prometheus: prometheus({ '1h': 0.05, '1m': 0, '20s': 0 }), now: () => T0 }))[0]?.status).toBe('exhausted');
    expect((await readSloStatuses({ slos: API, prometheus: prometheus({ '1m': 0, '20s': 0 }), now: () => T0 }))[0]?.status).toBe('no data');
    const [down] = await readSloStatuses({ slos: API, prometheus: prometheus({}, true), now: () => T0 });
    expect(down).toMatchObject({ status: 'unknown', unreachable: true, errorRatio: null, budgetRemaining: null });
    expect(down?.error).toContain('did not answer (ECONNREFUSED)');
  });
});

describe('burn-rate alerts', () => {
  it('fire when both windows burn faster than the factor, as one group routed by its severity', async () => {
    const e = evaluator(API);
    expect((await e.at(T0, prometheus({ '1h': 0.001, '1m': 0.001, '20s': 0.001 }))).notifications.map((n) => n.status)).toEqual(['resolved']); // first evaluation: the snapshot
    const { notifications } = await e.at(T0 + 10 * S, prometheus({ '1h': 0.05, '1m': 0.05, '20s': 0.06 }));
    expect(notifications).toHaveLength(1);
    const n = notifications[0];
    expect(n?.groupKey).toBe(burnGroupKey('api', FAST));
    expect(n).toMatchObject({ source: 'vigil', status: 'firing', commonLabels: { alertname: 'api error budget burn', severity: 'critical', slo: 'api', windows: '1m/20s' } });
    expect(firing(n)[0]?.startsAt).toBe(new Date(T0 + 10 * S).toISOString());
    expect(firing(n)[0]?.annotations.summary).toBe('api burns its error budget at 5× over 1m and 6× over 20s (alert above 2×; objective 99 % over 1h)');
    // 1 h of budget at 5×: 12 minutes.
    expect(firing(n)[0]?.annotations.description).toBe('At this rate a full 1h budget lasts 12m.');
    // Still burning, the figures moved: nothing new to say (the living message is not rewritten every tick).
    expect((await e.at(T0 + 20 * S, prometheus({ '1h': 0.05, '1m': 0.08, '20s': 0.09 }))).notifications).toEqual([]);
  });

  it('do not fire on one window alone, and resolve once the short window stops burning', async () => {
    const e = evaluator(API);
    await e.at(T0, prometheus({ '1h': 0, '1m': 0, '20s': 0 }));
    expect((await e.at(T0 + S, prometheus({ '1h': 0.05, '1m': 0.05, '20s': 0.01 }))).notifications).toEqual([]); // short at 1×
    expect((await e.at(T0 + 2 * S, prometheus({ '1h': 0.05, '1m': 0.01, '20s': 0.05 }))).notifications).toEqual([]); // long at 1×
    expect(firing((await e.at(T0 + 3 * S, prometheus({ '1h': 0.05, '1m': 0.05, '20s': 0.05 }))).notifications[0])).toHaveLength(1);
    const { notifications } = await e.at(T0 + 4 * S, prometheus({ '1h': 0.05, '1m': 0.05, '20s': 0.001 }));
    expect(notifications.map((n) => n.status)).toEqual(['resolved']);
    expect(resolved(notifications[0])[0]?.endsAt).toBe(new Date(T0 + 4 * S).toISOString());
  });

  it('keep their state while Prometheus does not answer: no resolve, no flap; said once, and once when it is back', async () => {
    const e = evaluator(API);
    await e.at(T0, prometheus({ '1h': 0, '1m': 0, '20s': 0 }));
    await e.at(T0 + S, prometheus({ '1h': 0.05, '1m': 0.05, '20s': 0.05 }));
    const before = e.state.groups;
    const first = await e.at(T0 + 2 * S, prometheus({}, true));
    expect(first.notifications).toEqual([]);
    expect(first.prometheus).toMatchObject({ change: 'down' });
    const second = await e.at(T0 + 3 * S, prometheus({}, true));
    expect(second.notifications).toEqual([]);
    expect(second.prometheus).toBeNull(); // not again every tick
    expect(e.state.groups).toEqual(before);
    // Back, still burning: nothing changed for the alert (no resolve and re-fire).
    const back = await e.at(T0 + 4 * S, prometheus({ '1h': 0.05, '1m': 0.05, '20s': 0.05 }));
    expect(back.notifications).toEqual([]);
    expect(back.prometheus).toEqual({ change: 'up', sinceMs: 2 * S });
  });

  it('keep their state through a window without traffic (cannot tell is not ok)', async () => {
    const e = evaluator(API);
    await e.at(T0, prometheus({ '1h': 0, '1m': 0, '20s': 0 }));
    await e.at(T0 + S, prometheus({ '1h': 0.05, '1m': 0.05, '20s': 0.05 }));
    expect((await e.at(T0 + 2 * S, prometheus({ '1h': 0.05, '1m': 0.05 }))).notifications).toEqual([]);
    expect(e.state.groups[burnGroupKey('api', FAST)]?.firingSince).toBe(T0 + S);
  });

  it('resolve what an SLO removed from the config had firing', async () => {
    const e = evaluator(API);
    await e.at(T0, prometheus({ '1h': 0, '1m': 0, '20s': 0 }));
    await e.at(T0 + S, prometheus({ '1h': 0.05, '1m': 0.05, '20s': 0.05 }));
    const { next, notifications } = evaluateBurnAlerts([], [], e.state, T0 + 2 * S);
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ status: 'resolved', groupKey: 'vigil-slo:api:1m/20s' });
    expect(resolved(notifications[0])).toHaveLength(1);
    expect(next.groups).toEqual({});
  });
});
