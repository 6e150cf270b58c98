import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { parseWindow, windowLabel } from '../../../src/reports/window.ts';
import { yamlConfigLoader } from '../../support/yaml-config.ts';

/** `reports:` as operators write it: YAML read by loadConfig, every problem naming its key. */
const { load, problems } = yamlConfigLoader('reports');

describe('reports:', () => {
  it('reads reports with a seconds-first schedule, windows in ms, a checklist, and targets over the defaults', () => {
    const config = load(`reports:
  targets: { critical: { resolve: 4h }, info: { ack: 1d } }
  daily:  { channel: C0OPS, schedule: "0 0 9 * * 1-5", window: 24h }
  weekly:
    channel: C0OPS
    schedule: "0 0 9 * * 1"
    timezone: Europe/Berlin
    window: 7d
    checklist: { items: [Verify dashboards, Check backups], deadline: 2h, mention: S0ONCALL }
`);
    expect(config.file.reports).toEqual({
      targets: { critical: { ackMs: 900_000, resolveMs: 14_400_000 }, warning: { ackMs: 3_600_000 }, info: { ackMs: 86_400_000 } },
      reports: {
        daily: { channel: 'C0OPS', schedule: '0 0 9 * * 1-5', window: 86_400_000 },
        weekly: { channel: 'C0OPS', schedule: '0 0 9 * * 1', timezone: 'Europe/Berlin', window: 604_800_000, checklist: { items: ['Verify dashboards', 'Check backups'], deadline: 7_200_000, mention: 'S0ONCALL' } },
      },
    });
  });

  it('names every mistake', () => {
    expect(
      problems(`reports:
  nightly: { channel: ops, schedule: "every day", window: 1 day, timezone: Mars/Olympus, colour: red }
  weekly:
    channel: C0OPS
    schedule: "0 9 * * 1"
    window: 7d
    checklist: { items: [a, a], deadline: soon, mention: alice }
`),
    ).toEqual([
      'reports.nightly.channel: must be a Slack channel id like C0123ABCD',
      'reports.nightly.schedule: must be a node-cron expression, seconds first allowed, like "0 0 9 * * 1-5"',
      'reports.nightly.timezone: must be an IANA time zone like Europe/Berlin or UTC',
      'reports.nightly.window: "1 day" is not a window: write a number and a unit (s, m, h, d, w) like 24h or 7d, at most 366d',
      'reports.nightly: Unrecognized key: "colour"',
      'reports.weekly.checklist.deadline: "soon" is not a window: write a number and a unit (s, m, h, d, w) like 24h or 7d, at most 366d',
      'reports.weekly.checklist.mention: must be a Slack user group id like S0123ABCD or a user id like U0123ABCD',
    ]);
  });

  it('refuses a report name that is not a lower-case word, before anything else', () => {
    expect(problems('reports:\n  Daily: { channel: C0OPS, schedule: "0 9 * * *", window: 24h }\n  bad: { channel: ops }\n')).toEqual([
      'reports.Daily: a report name is a lower-case word like daily or weekly',
    ]);
  });
});

describe('the shipped example', () => {
  it('configures a daily and a weekly report, the weekly one with a checklist', () => {
    const config = loadConfig({ VIGIL_CONFIG: 'manifests/vigil.example.yaml' }, new URL('../../../', import.meta.url).pathname);
    const reports = config.file.reports;
    expect(Object.keys(reports?.reports ?? {})).toEqual(['daily', 'weekly']);
    expect(reports?.reports.weekly?.checklist).toEqual({ items: ['Verify the dashboards', 'Review the noisiest alerts', 'Check the backups'], deadline: 7_200_000, mention: 'S0ONCALL' });
    expect(reports?.targets.critical).toEqual({ ackMs: 900_000, resolveMs: 14_400_000 });
  });
});

describe('windows', () => {
  it('read s, m, h, d and w, and nothing else', () => {
    expect([parseWindow('90s'), parseWindow('15m'), parseWindow('24h'), parseWindow('7d'), parseWindow('2w')]).toEqual([90_000, 900_000, 86_400_000, 604_800_000, 1_209_600_000]);
    expect([parseWindow('0h'), parseWindow('7 d'), parseWindow('1y'), parseWindow('400d'), parseWindow('-1h')]).toEqual([null, null, null, null, null]);
    expect([windowLabel(86_400_000), windowLabel(604_800_000), windowLabel(1_209_600_000), windowLabel(90_000)]).toEqual(['1d', '7d', '2w', '90s']);
  });
});

describe('a schedule with the right shape but a wrong value', () => {
  it('stops the bot at start naming the report (node-cron checks the values there)', async () => {
    const { Redis } = await import('ioredis');
    const { createReportSchedules } = await import('../../../src/reports/schedules.ts');
    const { createLogger } = await import('../../../src/log.ts');
    const config = load('reports:\n  daily: { channel: C0OPS, schedule: "0 0 99 * * *", window: 24h }\n');
    const redis = new Redis({ lazyConnect: true });
    const service = { list: () => [], build: async () => ({ title: '', status: 'info' as const }), post: async () => 'posted' as const };
    expect(() => createReportSchedules({ cfg: config.file.reports!, service, redis, keyPrefix: 'vigil', log: createLogger('silent') })).toThrow('schedule "report-daily": invalid cron expression "0 0 99 * * *"');
    redis.disconnect();
  });
});
