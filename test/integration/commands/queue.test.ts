import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueueInspector } from '../../../src/probes/queue-inspector.ts';
import type { EvaluatedReading } from '../../../src/probes/reading.ts';
import { checksOf, commandHarness, MINUTE, relaxed, section } from '../../support/command-harness.ts';
import { TEST_REDIS_URL } from '../../support/env.ts';
import { clientAddress, watchRedisCommands } from '../../support/redis-monitor.ts';

/** /queue through the real dispatcher, over two BullMQ queues under this file's own prefix. */
const h = commandHarness();
const { dispatcherFor } = h;

beforeAll(async () => {
  await h.start();
  await h.seedQueues();
});

afterAll(() => h.stop());

describe('/queue', () => {
  it('lists every queue under the prefix with counts by state and the oldest waiting job', async () => {
    const { run, runs } = dispatcherFor();
    const { reply, run: record } = await run('/queue');
    expect(record.outcome).toBe('ok');
    expect(runs).toHaveLength(1);
    expect(reply.title).toBe('Queues (2)');
    expect(reply.status).toBe('ok');
    const table = section(reply, 'By state').table;
    expect(table?.columns).toEqual(['queue', 'waiting', 'active', 'delayed', 'failed', 'paused', 'oldest waiting']);
    expect(table?.rows).toEqual([
      ['emails', '2', '0', '1', '0', 'no', '10m'],
      ['reports', '1', '0', '0', '0', 'no', '3m'],
    ]);
    expect(table?.rowStatus).toEqual(['ok', 'ok']);
    // The list comes from the background refresh; NOW is fixed before it ran, hence 0s.
    expect(reply.notes).toEqual(['Queue list refreshed 0s ago, every 30s.']);
    expect(reply.suggestions).toBeUndefined();
    const data = reply.data as Array<EvaluatedReading>;
    expect(data.map((q) => [q.name, q.values.waiting, q.values.oldest_waiting_ms, q.status])).toEqual([
      ['emails', 2, 10 * MINUTE, 'ok'],
      ['reports', 1, 3 * MINUTE, 'ok'],
    ]);
  });

  it('works through the /vigil umbrella command too', async () => {
    const { run } = dispatcherFor();
    const { reply, run: record } = await run('/vigil', 'queue');
    expect(record.command).toBe('queue');
    expect(reply.title).toBe('Queues (2)');
  });

  it('shows one queue in detail', async () => {
    const { run } = dispatcherFor();
    const { reply, run: record } = await run('/queue', 'emails');
    expect(record.outcome).toBe('ok');
    expect(reply.title).toBe('Queue emails');
    expect(reply.status).toBe('ok');
    expect(section(reply, 'Counts').fields).toEqual([
      { label: 'Waiting', value: '2' },
      { label: 'Active', value: '0' },
      { label: 'Delayed', value: '1' },
      { label: 'Failed', value: '0' },
      { label: 'Completed (kept)', value: '0' },
      { label: 'Paused', value: 'no' },
      { label: 'Workers', value: '0' },
      { label: 'Oldest waiting', value: '10m' },
    ]);
    expect(reply.summary).toMatch(/Throughput unknown/);
    expect(reply.notes).toEqual(['Jobs are waiting and no worker is connected.']);
    expect(reply.data).toMatchObject({ name: 'emails', oldestWaitingAgeMs: 10 * MINUTE, status: 'ok', breaches: [] });
  });

  it('judges queues with the configured thresholds, in the overview, the detail and /health alike', async () => {
    // emails has 2 waiting; reports 1.
    const { run } = dispatcherFor({ thresholdsFor: (q) => (q === 'emails' ? { waiting: 2, failed: 1 } : relaxed()) });

    const overview = (await run('/queue')).reply;
    expect(overview.status).toBe('warn');
    expect(section(overview, 'By state').table?.rowStatus).toEqual(['warn', 'ok']);
    expect(overview.notes).toEqual(['emails: waiting 2 ≥ 2', 'Queue list refreshed 0s ago, every 30s.']);
    expect(overview.suggestions).toEqual([{ label: 'Inspect emails', command: '/queue emails' }]);

    const detail = (await run('/queue', 'emails')).reply;
    expect(detail.status).toBe('warn');
    expect(detail.notes).toEqual(['Needs attention: waiting 2 ≥ 2.', 'Jobs are waiting and no worker is connected.']);

    const health = (await run('/health')).reply;
    expect(health.status).toBe('warn');
    expect(health.title).toBe('Health: degraded');
    expect(checksOf(health).get('emails')).toMatchObject({
      kind: 'queue',
      status: 'warn',
      breaches: [{ measure: 'waiting', status: 'warn', reason: 'waiting 2 ≥ 2' }],
    });
    expect(section(health, 'Queues').table?.rows[0]?.[1]).toBe('2 waiting (oldest 10m) · 0 active · 0 failed · 1 delayed · waiting 2 ≥ 2');
    expect(health.suggestions).toEqual([{ label: 'Inspect emails', command: '/queue emails' }]);
  });

  it('costs one Redis round trip per /queue and no SCAN per /queue or /health once the list is known', async () => {
    const { run } = dispatcherFor();
    await run('/queue'); // waits for the first, background SCAN
    const calls = await watchRedisCommands(TEST_REDIS_URL, { addr: await clientAddress(h.redis) });
    h.defer(() => calls.close());

    const { commands: queue } = await calls.during(async () => {
      for (let i = 0; i < 3; i++) expect((await run('/queue')).reply.title).toBe('Queues (2)');
    });
    expect(queue).toEqual(['evalsha', 'evalsha', 'evalsha']);

    const { commands: health } = await calls.during(async () => {
      expect(checksOf((await run('/health')).reply).get('emails')?.status).toBe('ok');
    });
    expect(health).not.toContain('scan');
    expect(health.filter((c) => c === 'evalsha')).toEqual(['evalsha']);
  });

  it('finds a queue made after the list was read when asked for by name; the overview lists it after a refresh', async () => {
    const inspector = createQueueInspector({ redis: h.redis, prefix: h.prefix, refreshMs: 60_000 });
    h.defer(() => inspector.close());
    const { run } = dispatcherFor({ queues: inspector });
    expect((await run('/queue')).reply.title).toBe('Queues (2)');
    const fresh = new Queue('fresh', { connection: h.redis, prefix: h.prefix });
    h.defer(() => fresh.close());
    await fresh.add('job', {});
    try {
      const detail = await run('/queue', 'fresh');
      expect(detail.run.outcome).toBe('ok');
      expect(section(detail.reply, 'Counts').fields?.[0]).toEqual({ label: 'Waiting', value: '1' });
      await inspector.refresh();
      expect((await run('/queue')).reply.title).toBe('Queues (3)');
    } finally {
      // The other tests count two queues under this prefix.
      await fresh.obliterate({ force: true });
    }
  });

  it('lists configured queues, saying which are not in Redis', async () => {
    const inspector = createQueueInspector({ redis: h.redis, prefix: h.prefix, configured: ['planned'], refreshMs: 5000 });
    h.defer(() => inspector.close());
    const { run } = dispatcherFor({ queues: inspector });
    const { reply } = await run('/queue');
    expect(section(reply, 'By state').table?.rows.map((r) => r[0])).toEqual(['emails', 'planned', 'reports']);
    expect(reply.notes).toEqual([
      'Not found under the prefix (configured, or removed since the list was refreshed): planned.',
      'Queue list refreshed 0s ago, every 5s.',
    ]);
  });

  it('answers an unknown queue with not_found, listing the known ones', async () => {
    const { run } = dispatcherFor();
    const { reply, run: record } = await run('/queue', 'nope');
    expect(reply.status).toBe('fail');
    expect(reply.summary).toBe('No BullMQ queue named "nope". Known queues: emails, reports.');
    expect(record.outcome).toBe('not_found');
    expect(record.error).toContain('nope');
  });

  it('rejects a queue name with a wildcard as bad arguments', async () => {
    const { run } = dispatcherFor();
    const { reply, run: record } = await run('/queue', 'em*');
    expect(record.outcome).toBe('bad_args');
    expect(reply.summary).toMatch(/wildcards/);
  });
});
