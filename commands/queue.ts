import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';
import { requireDep } from '../src/core/deps.ts';
import { AppError } from '../src/core/errors.ts';
import { worstStatus, type Reply } from '../src/core/reply.ts';
import { formatDuration } from '../src/probes/postgres.ts';
import { queueStatus, type QueueDetail, type QueueInspector, type QueueThresholds } from '../src/probes/queues.ts';

const queueName = z.string().regex(/^[^:*?\s]{1,200}$/, 'a queue name has no spaces, colons or wildcards');

export default defineCommand({
  name: 'queue',
  summary: 'BullMQ queues: counts by state, oldest waiting job, recent failures, throughput',
  usage: '[name]',
  options: {},
  args: z.object({ positionals: z.array(queueName).max(1, 'takes at most one queue name') }),
  async run(args, { deps }): Promise<Reply> {
    const inspector = requireDep(deps.queues, 'Redis (BullMQ queues)', deps.missing.redis);
    const name = args.positionals[0];
    return name === undefined ? overview(inspector, deps.thresholdsFor) : detail(inspector, name, deps.now(), deps.thresholdsFor);
  },
});

async function overview(inspector: QueueInspector, thresholdsFor: (q: string) => QueueThresholds): Promise<Reply> {
  const names = await inspector.discover();
  if (names.length === 0) {
    return { title: 'Queues', status: 'info', summary: 'No BullMQ queues found under the configured prefix.' };
  }
  const counts = await Promise.all(names.map(async (name) => ({ name, c: await inspector.counts(name) })));
  const statuses = counts.map(({ name, c }) => queueStatus(c, thresholdsFor(name)));
  return {
    title: `Queues (${names.length})`,
    status: worstStatus(statuses),
    sections: [
      {
        heading: 'By state',
        table: {
          columns: ['queue', 'waiting', 'active', 'delayed', 'failed', 'paused'],
          rows: counts.map(({ name, c }) => [
            name,
            String(c.waiting + c.prioritized),
            String(c.active),
            String(c.delayed),
            String(c.failed),
            c.paused ? 'yes' : 'no',
          ]),
          rowStatus: statuses,
        },
      },
    ],
    actions: counts.filter((_, i) => statuses[i] !== 'ok').slice(0, 5).map(({ name }) => ({ label: `Inspect ${name}`, command: `/queue ${name}` })),
    data: counts.map(({ name, c }) => ({ name, ...c })),
  };
}

async function detail(
  inspector: QueueInspector,
  name: string,
  now: number,
  thresholdsFor: (q: string) => QueueThresholds,
): Promise<Reply> {
  const known = await inspector.discover();
  if (!known.includes(name)) {
    const hint = known.length > 0 ? ` Known queues: ${known.slice(0, 20).join(', ')}.` : ' No queues were found.';
    throw new AppError('not_found', `No BullMQ queue named "${name}".${hint}`);
  }
  const d: QueueDetail = await inspector.detail(name, now);
  const status = queueStatus(d, thresholdsFor(name));
  const fields = [
    { label: 'Waiting', value: String(d.waiting + d.prioritized) },
    { label: 'Active', value: String(d.active) },
    { label: 'Delayed', value: String(d.delayed) },
    { label: 'Failed', value: String(d.failed) },
    { label: 'Completed (kept)', value: String(d.completed) },
    { label: 'Paused', value: d.paused ? 'yes' : 'no' },
    { label: 'Workers', value: String(d.workers) },
    { label: 'Oldest waiting', value: d.oldestWaitingAgeMs === null ? 'none waiting' : formatDuration(d.oldestWaitingAgeMs / 1000) },
  ];
  const throughput = d.throughput
    ? `Last ${d.throughput.minutes} min: ${d.throughput.completed} completed, ${d.throughput.failed} failed.`
    : 'Throughput unknown: workers do not record BullMQ metrics (Worker option `metrics`).';
  return {
    title: `Queue ${name}`,
    status,
    summary: throughput,
    sections: [
      { heading: 'Counts', fields },
      ...(d.recentFailures.length > 0
        ? [
            {
              heading: 'Recent failures',
              status: 'warn' as const,
              table: {
                columns: ['job', 'name', 'attempts', 'reason'],
                rows: d.recentFailures.map((f) => [f.jobId, f.jobName, String(f.attempts), f.reason.split('\n')[0] ?? '']),
              },
            },
          ]
        : []),
    ],
    ...(d.workers === 0 && d.waiting > 0 ? { notes: ['Jobs are waiting and no worker is connected.'] } : {}),
    data: d,
  };
}
