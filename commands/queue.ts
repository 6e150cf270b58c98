import { z } from 'zod';
import { defineCommand } from '../src/core/command.ts';
import { requireDep } from '../src/core/deps.ts';
import { AppError } from '../src/core/errors.ts';
import { formatDuration } from '../src/core/format.ts';
import { worstStatus, type Reply } from '../src/core/reply.ts';
import { measureQueue, queueFields, queueRules, queueValues } from '../src/probes/queue-probe.ts';
import type { QueueInspector, QueueThresholds } from '../src/probes/queues.ts';
import { assess } from '../src/probes/thresholds.ts';

const queueName = z.string().regex(/^[^:*?\s]{1,200}$/, 'a queue name has no spaces, colons or wildcards');
const MAX_SUGGESTIONS = 5;

type ThresholdsFor = (queue: string) => QueueThresholds;

export default defineCommand({
  name: 'queue',
  summary: 'BullMQ queues: counts by state, oldest waiting job, recent failures, throughput',
  usage: '[name]',
  options: {},
  args: z.object({ positionals: z.array(queueName).max(1, 'takes at most one queue name') }),
  async run(args, { deps }): Promise<Reply> {
    const inspector = requireDep(deps.queues, 'Redis (BullMQ queues)', deps.missing.redis);
    const name = args.positionals[0];
    const now = deps.now();
    if (name === undefined) return overview(inspector, deps.thresholdsFor, now);
    const reply = await detail(inspector, name, now, deps.thresholdsFor);
    // Failed jobs and a retry action in the catalog: offer to request it (approval still applies).
    const failed = (reply.data as { values?: { failed?: number } } | undefined)?.values?.failed ?? 0;
    const retry = failed > 0 ? deps.actionButton?.('bullmq.retryFailed', `Retry failed (${failed})`, { queue: name }) : null;
    return retry ? { ...reply, buttons: [...(reply.buttons ?? []), retry] } : reply;
  },
});

/** Every queue judged by the same measurements and thresholds as /health. */
async function overview(inspector: QueueInspector, thresholdsFor: ThresholdsFor, now: number): Promise<Reply> {
  const names = await inspector.discover();
  if (names.length === 0) {
    return { title: 'Queues', status: 'info', summary: 'No BullMQ queues found under the configured prefix.' };
  }
  const queues = await Promise.all(
    names.map(async (name) => {
      const measured = await measureQueue(inspector, name, now);
      return { name, ...measured, ...assess(measured, queueRules(thresholdsFor(name))) };
    }),
  );
  const notOk = queues.filter((q) => q.status !== 'ok');
  return {
    title: `Queues (${names.length})`,
    status: worstStatus(queues.map((q) => q.status)),
    sections: [
      {
        heading: 'By state',
        table: {
          columns: ['queue', 'waiting', 'active', 'delayed', 'failed', 'paused', 'oldest waiting'],
          rows: queues.map(({ name, values: v }) => [
            name,
            String(v.waiting),
            String(v.active),
            String(v.delayed),
            String(v.failed),
            v.paused === 1 ? 'yes' : 'no',
            v.oldest_waiting_ms === undefined ? '–' : formatDuration(v.oldest_waiting_ms / 1000),
          ]),
          rowStatus: queues.map((q) => q.status),
        },
      },
    ],
    ...(notOk.length > 0
      ? {
          notes: notOk.map((q) => `${q.name}: ${q.breaches.map((b) => b.reason).join(', ')}`),
          suggestions: notOk.slice(0, MAX_SUGGESTIONS).map(({ name }) => ({ label: `Inspect ${name}`, command: `/queue ${name}` })),
        }
      : {}),
    data: queues,
  };
}

async function detail(inspector: QueueInspector, name: string, now: number, thresholdsFor: ThresholdsFor): Promise<Reply> {
  const known = await inspector.discover();
  if (!known.includes(name)) {
    const hint = known.length > 0 ? ` Known queues: ${known.slice(0, 20).join(', ')}.` : ' No queues were found.';
    throw new AppError('not_found', `No BullMQ queue named "${name}".${hint}`);
  }
  const d = await inspector.detail(name, now);
  const values = queueValues(d, d.oldestWaitingAgeMs, d.workers);
  const { status, breaches } = assess({ values, facts: {} }, queueRules(thresholdsFor(name)));
  const throughput = d.throughput
    ? `Last ${d.throughput.minutes} min: ${d.throughput.completed} completed, ${d.throughput.failed} failed.`
    : 'Throughput unknown: workers do not record BullMQ metrics (Worker option `metrics`).';
  const notes = [
    ...breaches.map((b) => `Needs attention: ${b.reason}.`),
    ...(d.workers === 0 && (values.waiting ?? 0) > 0 ? ['Jobs are waiting and no worker is connected.'] : []),
  ];
  return {
    title: `Queue ${name}`,
    status,
    summary: throughput,
    sections: [
      { heading: 'Counts', status, fields: queueFields(values) },
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
    ...(notes.length > 0 ? { notes } : {}),
    data: { ...d, values, status, breaches },
  };
}
