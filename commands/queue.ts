import { z } from 'zod';
import { defineInspectCommand } from './deps.ts';
import { requireDep } from '../src/core/deps.ts';
import { AppError } from '../src/core/errors.ts';
import { formatDuration } from '../src/core/format.ts';
import { worstStatus, type Reply } from '../src/core/reply.ts';
import { queueFields, queueRules, queueValues } from '../src/probes/queue-probe.ts';
import type { QueueInspector, QueueListing, QueueThresholds } from '../src/probes/queue-inspector.ts';
import { assess } from '../src/probes/thresholds.ts';

const queueName = z.string().regex(/^[^:*?\s]{1,200}$/, 'a queue name has no spaces, colons or wildcards');
const MAX_SUGGESTIONS = 5;

type ThresholdsFor = (queue: string) => QueueThresholds;

export default defineInspectCommand({
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

/** Every queue judged by the same measurements and thresholds as /health, counted in one round trip. */
async function overview(inspector: QueueInspector, thresholdsFor: ThresholdsFor, now: number): Promise<Reply> {
  const names = await inspector.discover();
  const listed = listingNote(inspector.listing(), now);
  if (names.length === 0) {
    return { title: 'Queues', status: 'info', summary: 'No BullMQ queues found under the configured prefix.', notes: [listed] };
  }
  const stats = await inspector.stats(names, now);
  const queues = names.map((name) => {
    const s = stats.get(name);
    if (!s) throw new Error(`no statistics for queue ${name}`);
    const measured = { values: queueValues(s, s.oldestWaitingAgeMs), facts: {} };
    return { name, ...measured, ...assess(measured, queueRules(thresholdsFor(name))) };
  });
  const notOk = queues.filter((q) => q.status !== 'ok');
  // Configured but never created, or removed since the list was refreshed: shown with zeros.
  const absent = names.filter((name) => stats.get(name)?.exists === false);
  const notes = [
    ...notOk.map((q) => `${q.name}: ${q.breaches.map((b) => b.reason).join(', ')}`),
    ...(absent.length > 0 ? [`Not found under the prefix (configured, or removed since the list was refreshed): ${absent.join(', ')}.`] : []),
    listed,
  ];
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
    notes,
    ...(notOk.length > 0
      ? { suggestions: notOk.slice(0, MAX_SUGGESTIONS).map(({ name }) => ({ label: `Inspect ${name}`, command: `/queue ${name}` })) }
      : {}),
    data: queues,
  };
}

/** The list is refreshed in the background: say how fresh it is, so a brand-new queue's absence makes sense. */
function listingNote(listing: QueueListing, now: number): string {
  const every = `every ${formatDuration(listing.refreshMs / 1000)}`;
  if (listing.refreshedAt === null) {
    return listing.lastError === null
      ? `Queue list: the first scan of Redis is still running (refreshed ${every}); configured queues only.`
      : `Queue list could not be read (${listing.lastError}); retried ${every}.`;
  }
  const age = `refreshed ${formatDuration(Math.max(0, now - listing.refreshedAt) / 1000)} ago, ${every}`;
  return listing.lastError === null ? `Queue list ${age}.` : `Queue list ${age}; the last refresh failed: ${listing.lastError}.`;
}

async function detail(inspector: QueueInspector, name: string, now: number, thresholdsFor: ThresholdsFor): Promise<Reply> {
  if (!(await inspector.has(name))) {
    const known = await inspector.discover();
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
