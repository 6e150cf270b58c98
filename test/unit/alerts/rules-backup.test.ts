import { afterAll, describe, expect, it } from 'vitest';
import { evaluateRules } from '../../../src/alerts/rules/evaluate.ts';
import { fileSchema } from '../../../src/config/file.ts';
import { createHealthService } from '../../../src/probes/health.ts';
import { backupDirs, dumpFile, HOUR } from '../../support/backup-fixtures.ts';

/**
 * Vigil's own rules on the backup probe: readings taken by the real health service from dumps on
 * the real filesystem (no Postgres or Redis configured: those readings fail, and no rule reads them),
 * judged by the real rule evaluation, rules and backups parsed from YAML-shaped config.
 */
const NOW = Date.parse('2026-12-06T12:00:00Z');
const dirs = backupDirs();
afterAll(() => dirs.cleanup());

function configWith(dir: string) {
  return fileSchema.parse({
    probes: { backups: [{ name: 'app-nightly', maxAge: '26h', dir, pattern: '*.dump' }] },
    alerts: {
      channels: { default: 'C0DEFAULT' },
      rules: [{ name: 'BackupStale', severity: 'critical', probe: 'backup', target: 'app-nightly', measure: 'age_seconds', above: 93600 }],
    },
  });
}

async function readingsFor(dir: string) {
  const config = configWith(dir);
  const health = createHealthService({
    db: null,
    redis: null,
    queues: null,
    thresholdsFor: () => ({ waiting: 1000, failed: 1 }),
    httpTargets: [],
    backups: config.probes.backups.map((b) => ({ ...b, timeoutMs: 1000 })),
    missing: { postgres: 'not configured', redis: 'not configured' },
    timeoutMs: 1000,
    now: () => NOW,
  });
  return { rules: config.alerts?.rules ?? [], checks: (await health.check()).checks };
}

describe('a rule on the backup probe', () => {
  it('fires on age_seconds above 93600 for a backup 30 h old, naming the backup', async () => {
    const dir = dirs.make();
    dumpFile(dir, 'app.dump', 30 * HOUR, NOW);
    const { rules, checks } = await readingsFor(dir);
    const { notifications } = evaluateRules(rules, checks, {}, NOW);
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ status: 'firing', commonLabels: { alertname: 'BackupStale', severity: 'critical', probe: 'backup', target: 'app-nightly' } });
    expect(notifications[0]?.alerts.map((a) => [a.labels.target, a.status, a.annotations.summary])).toEqual([
      ['app-nightly', 'firing', 'backup app-nightly: age_seconds 108000 > 93600'],
    ]);
  });

  it('stays quiet for a backup 20 h old (its first evaluation sends the empty snapshot only)', async () => {
    const dir = dirs.make();
    dumpFile(dir, 'app.dump', 20 * HOUR, NOW);
    const { rules, checks } = await readingsFor(dir);
    const { notifications } = evaluateRules(rules, checks, {}, NOW);
    expect(notifications.map((n) => [n.status, n.alerts.length])).toEqual([['resolved', 0]]);
  });

  it('refuses a rule whose target is not a configured backup, naming the key', () => {
    const parsed = fileSchema.safeParse({
      probes: { backups: [{ name: 'app-nightly', maxAge: '26h', archiver: true }] },
      alerts: { channels: { default: 'C0DEFAULT' }, rules: [{ name: 'Stale', severity: 'warning', probe: 'backup', target: 'app-nigthly', measure: 'age_seconds', above: 1 }] },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['alerts.rules.0.target: no backup named app-nigthly in probes.backups']);
  });
});
