import { describe, expect, it } from 'vitest';
import slo, { type SloCommandDeps } from '../../../commands/slo.ts';
import type { Invoker } from '../../../src/core/command.ts';
import { AppError } from '../../../src/core/errors.ts';
import { fileSchema } from '../../../src/config/file.ts';
import type { SloStatus } from '../../../src/reports/slo/slo-status.ts';

/** /slo's answers from statuses built by hand: the words and figures a person reads. */
const invoker: Invoker = { surface: 'shell', userId: 'U0TEST' };
const SLOS = fileSchema.parse({
  slos: {
    checkout: { objective: 99, window: '30d', errors: 'e[$window]', total: 't[$window]' },
    search: { objective: 99.9, window: '7d', errors: 'e[$window]', total: 't[$window]' },
  },
}).slos ?? [];

function status(name: string, over: Partial<SloStatus> = {}): SloStatus {
  return {
    name,
    objective: 99,
    window: '30d',
    windowSeconds: 2_592_000,
    errorRatio: 0.002,
    compliance: 0.998,
    budgetRemaining: 0.8,
    burnRates: [{ long: '1h', short: '5m', factor: 14.4, severity: 'critical', longRate: 0.5, shortRate: 0.25, burning: false }],
    status: 'ok',
    error: null,
    unreachable: false,
    ...over,
  };
}

function deps(statuses: SloStatus[] | null, over: Partial<SloCommandDeps> = {}): SloCommandDeps {
  return { slos: SLOS, read: statuses ? async () => statuses : null, prometheusMissing: statuses ? null : 'PROMETHEUS_URL is not set', prometheusAt: 'http://prometheus:9090/', ...over };
}

const run = (d: SloCommandDeps, positionals: string[] = []) => slo.run(slo.args.parse({ positionals }), { deps: d, invoker });
const table = (reply: Awaited<ReturnType<typeof run>>, i: number) => reply.sections?.[i]?.table?.rows;

describe('/slo', () => {
  it('shows compliance, the budget left and the burn rate of every SLO', async () => {
    const reply = await run(deps([status('checkout'), status('search', { objective: 99.9, window: '7d', errorRatio: 0.05, compliance: 0.95, budgetRemaining: -49, status: 'exhausted' })]));
    expect(reply.status).toBe('fail');
    expect(reply.summary).toBe('2 SLOs, 1 with the error budget exhausted.');
    expect(table(reply, 0)).toEqual([
      ['checkout', '99 % / 30d', '99.8 %', '80 %', '0.5× (1h)', 'ok'],
      ['search', '99.9 % / 7d', '95 %', 'exhausted (-4900 %)', '0.5× (1h)', 'exhausted'],
    ]);
    expect(table(reply, 1)?.[0]).toEqual(['checkout', '1h/5m', '0.5× / 0.25×', '14.4×', 'critical', 'no']);
    // --json: the same figures as numbers.
    expect(reply.data).toEqual([status('checkout'), expect.objectContaining({ name: 'search', budgetRemaining: -49, status: 'exhausted' })]);
  });

  it('one SLO by name; an unknown name lists the configured ones', async () => {
    const reply = await run(deps([status('checkout'), status('search')]), ['search']);
    expect(table(reply, 0)?.map((r) => r[0])).toEqual(['search']);
    await expect(run(deps([]), ['payments'])).rejects.toThrow('No SLO named "payments"; configured: checkout, search');
  });

  it('says in words when Prometheus does not answer, is not configured, or there are no SLOs', async () => {
    const down = status('checkout', { status: 'unknown', error: 'Prometheus at http://prometheus:9090/ did not answer (ECONNREFUSED)', unreachable: true, errorRatio: null, compliance: null, budgetRemaining: null });
    const reply = await run(deps([down]));
    expect(reply.status).toBe('fail');
    expect(reply.summary).toBe('Prometheus at http://prometheus:9090/ did not answer (ECONNREFUSED): no SLO figures now. Burn-rate alerts keep their state until it answers.');
    expect(table(reply, 0)?.[0]).toEqual(['checkout', '99 % / 30d', '?', '?', '0.5× (1h)', 'unknown']);

    const missing = await run(deps(null)).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(AppError);
    expect((missing as AppError).userMessage).toBe('SLO figures come from Prometheus, and PROMETHEUS_URL is not set. Set PROMETHEUS_URL (see docs/slos.md).');

    const none = await run(deps(null, { slos: [] }));
    expect(none).toMatchObject({ status: 'info', summary: expect.stringContaining('No SLOs are configured') });
  });

  it('a query Prometheus refused is a note under the table, naming the SLO', async () => {
    const bad = status('search', { status: 'unknown', error: 'Prometheus refused the query e[1h]: parse error', errorRatio: null, compliance: null, budgetRemaining: null });
    const reply = await run(deps([status('checkout'), bad]));
    expect(reply.status).toBe('warn');
    expect(reply.notes).toEqual(['search: Prometheus refused the query e[1h]: parse error']);
  });
});
