import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';
import { worstStatus, type Reply, type Section } from '../src/core/reply.ts';
import type { CheckResult } from '../src/probes/check.ts';

const KIND_HEADINGS: Record<CheckResult['kind'], string> = {
  postgres: 'Postgres',
  redis: 'Redis',
  queue: 'Queues',
  http: 'HTTP targets',
};

const OVERALL: Record<string, string> = { ok: 'healthy', warn: 'degraded', fail: 'unhealthy', info: 'healthy' };

export default defineCommand({
  name: 'health',
  summary: 'Postgres, Redis, BullMQ queues and HTTP targets at a glance',
  usage: '[--verbose]',
  options: { verbose: { type: 'boolean', short: 'v' } },
  args: z.object({ verbose: z.boolean().default(false), positionals: z.array(z.string()).max(0, 'takes no arguments') }),
  async run(args, { deps }): Promise<Reply> {
    const snapshot = await deps.health.check();
    const sections: Section[] = [];
    for (const kind of Object.keys(KIND_HEADINGS) as CheckResult['kind'][]) {
      const checks = snapshot.checks.filter((c) => c.kind === kind);
      if (checks.length === 0) continue;
      if (kind === 'postgres' || kind === 'redis') {
        const [check] = checks;
        if (!check) continue;
        sections.push({
          heading: KIND_HEADINGS[kind],
          status: check.status,
          text: `${check.summary} (${check.durationMs} ms)`,
          ...(args.verbose && check.details.length > 0 ? { fields: check.details } : {}),
        });
        continue;
      }
      sections.push({
        heading: KIND_HEADINGS[kind],
        status: worstStatus(checks.map((c) => c.status)),
        table: {
          columns: ['name', 'state', 'ms'],
          rows: checks.map((c) => [c.name.replace(/^queue /, ''), c.summary, String(c.durationMs)]),
          rowStatus: checks.map((c) => c.status),
        },
      });
      if (args.verbose) {
        for (const c of checks.filter((check) => check.details.length > 0)) {
          sections.push({ heading: c.name, status: c.status, fields: c.details });
        }
      }
    }
    const failing = snapshot.checks.filter((c) => c.status !== 'ok').map((c) => c.name);
    return {
      title: `Health: ${OVERALL[snapshot.status]}`,
      status: snapshot.status,
      summary:
        failing.length === 0
          ? `All ${snapshot.checks.length} checks passed in ${snapshot.durationMs} ms.`
          : `Needs attention: ${failing.join(', ')} (checked in ${snapshot.durationMs} ms).`,
      sections,
      data: snapshot,
      ...(failing.some((n) => n.startsWith('queue ')) ? { actions: [{ label: 'Inspect queues', command: '/queue' }] } : {}),
    };
  },
});
