import { describe, expect, it } from 'vitest';
import { fileSchema } from '../../../../src/config/file.ts';

/** `slos:` through the real file schema, as operators' YAML is read. */
const CHECKOUT = {
  objective: 99.5,
  window: '30d',
  errors: 'sum(rate(http_requests_total{code=~"5.."}[$window]))',
  total: 'sum(rate(http_requests_total[$window]))',
};

function parse(slos: unknown) {
  return fileSchema.safeParse({ slos });
}
function problems(slos: unknown): string[] {
  const r = parse(slos);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('slos: in the YAML config', () => {
  it('reads the issue example with the SRE workbook defaults for burn alerts', () => {
    const r = parse({ 'checkout-availability': CHECKOUT });
    expect(r.success).toBe(true);
    expect(r.data?.slos).toEqual([
      {
        name: 'checkout-availability',
        objective: 99.5,
        window: { text: '30d', ms: 30 * 86_400_000 },
        errors: CHECKOUT.errors,
        total: CHECKOUT.total,
        burnAlerts: [
          { long: { text: '1h', ms: 3_600_000 }, short: { text: '5m', ms: 300_000 }, factor: 14.4, severity: 'critical' },
          { long: { text: '6h', ms: 21_600_000 }, short: { text: '30m', ms: 1_800_000 }, factor: 6, severity: 'warning' },
        ],
      },
    ]);
  });

  it('takes burn alerts as written, in seconds to weeks', () => {
    const r = parse({ api: { ...CHECKOUT, window: '4w', burnAlerts: [{ long: '1m', short: '20s', factor: 2, severity: 'critical' }] } });
    expect(r.data?.slos?.[0]?.window.ms).toBe(4 * 7 * 86_400_000);
    expect(r.data?.slos?.[0]?.burnAlerts).toEqual([{ long: { text: '1m', ms: 60_000 }, short: { text: '20s', ms: 20_000 }, factor: 2, severity: 'critical' }]);
  });

  it('says what is wrong with each bad entry', () => {
    expect(problems({ api: { ...CHECKOUT, objective: 100 } })).toEqual(['slos.api.objective: must be below 100: a 100 % objective leaves no error budget to measure']);
    expect(problems({ api: { ...CHECKOUT, objective: 0 } })).toEqual(['slos.api.objective: must be a percentage above 0']);
    expect(problems({ api: { ...CHECKOUT, errors: 'sum(rate(http_requests_total{code="500"}[5m]))' } })[0]).toMatch(/^slos\.api\.errors: must contain \$window/);
    expect(problems({ api: { ...CHECKOUT, window: '30 days' } })).toEqual(['slos.api.window: must be a Prometheus duration like 20s, 5m, 1h, 30d or 4w']);
    expect(problems({ api: { ...CHECKOUT, window: '0s' } })).toEqual(['slos.api.window: must be longer than 0']);
    expect(problems({ api: { ...CHECKOUT, burnAlerts: [{ long: '5m', short: '1h', factor: 14.4, severity: 'critical' }] } })).toEqual(['slos.api.burnAlerts.0.short: must be shorter than long']);
    expect(problems({ api: { ...CHECKOUT, burnAlerts: [{ long: '1h', short: '5m', factor: 14.4, severity: 'Critical' }] } })).toEqual([
      'slos.api.burnAlerts.0.severity: a lower-case word like critical or warning',
    ]);
    const twice = { long: '1h', short: '5m', factor: 14.4, severity: 'critical' };
    expect(problems({ api: { ...CHECKOUT, burnAlerts: [twice, { ...twice, factor: 6 }] } })).toEqual(['slos.api.burnAlerts.1: a second burn alert over 1h/5m: each pair of windows once']);
    expect(problems({ 'Checkout API': CHECKOUT })[0]).toMatch(/^slos\.Checkout API: an SLO name is lower case/);
    expect(problems({ api: { ...CHECKOUT, objectve: 99 } })[0]).toMatch(/^slos\.api: Unrecognized key/);
  });
});
