import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { fileSchema } from '../../../src/config/file.ts';
import { slosFeature } from '../../../src/features/slos.ts';
import type { Infrastructure } from '../../../src/infrastructure.ts';

/**
 * What the slos feature adds and what its start-up line says, from the smallest infrastructure it
 * reads (a fake: only config, state, Redis, the logger and announce are looked at).
 */
const SLOS = { checkout: { objective: 99.5, window: '30d', errors: 'e[$window]', total: 't[$window]' } };

function infra(file: Record<string, unknown>, env: Record<string, string>, withState = true): { infra: Infrastructure; lines: string[] } {
  const lines: string[] = [];
  const fake = {
    role: 'bot',
    config: { file: fileSchema.parse(file), env },
    state: { pool: withState ? {} : null },
    probeRedis: withState ? ({} as Redis) : null,
    log: pino({ level: 'silent' }),
    announce: (line: string) => lines.push(line),
  };
  return { infra: fake as unknown as Infrastructure, lines };
}

describe('the slos feature', () => {
  it('serves /slo and schedules burn-rate alerts with Prometheus and an alerts: section', async () => {
    const { infra: i, lines } = infra({ slos: SLOS, alerts: { channels: { default: 'C0ALERTS' } } }, { PROMETHEUS_URL: 'http://vigil:pw@prometheus:9090' });
    const f = await slosFeature(i);
    expect(f.commands?.map((c) => c.name)).toEqual(['slo']);
    expect(f.schedules?.map((s) => s.name)).toEqual(['schedule:slo-burn-alerts']);
    expect(lines).toEqual(['SLOs: checkout 99.5 % over 30d from http://vigil:***@prometheus:9090/; burn-rate alerts on']);
  });

  it('says why burn-rate alerts are off: no alerts: section, no PROMETHEUS_URL, no state', async () => {
    const noAlerts = infra({ slos: SLOS }, { PROMETHEUS_URL: 'http://prometheus:9090' });
    expect((await slosFeature(noAlerts.infra)).schedules).toEqual([]);
    expect(noAlerts.lines).toEqual(['SLOs: checkout 99.5 % over 30d from http://prometheus:9090/; burn-rate alerts off (no alerts: section to route them)']);

    const noUrl = infra({ slos: SLOS, alerts: { channels: { default: 'C0ALERTS' } } }, {});
    expect((await slosFeature(noUrl.infra)).schedules).toEqual([]);
    expect(noUrl.lines).toEqual(['SLOs: checkout 99.5 % over 30d; burn-rate alerts off (PROMETHEUS_URL is not set)']);

    const noState = infra({ slos: SLOS, alerts: { channels: { default: 'C0ALERTS' } } }, { PROMETHEUS_URL: 'http://prometheus:9090' }, false);
    expect((await slosFeature(noState.infra)).schedules).toEqual([]);
    expect(noState.lines[0]).toMatch(/burn-rate alerts off \(no state database\)$/);
  });

  it('says nothing at start without SLOs', async () => {
    const none = infra({}, {});
    expect((await slosFeature(none.infra)).commands?.map((c) => c.name)).toEqual(['slo']);
    expect(none.lines).toEqual([]);
  });
});
