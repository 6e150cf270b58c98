import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandHarness } from '../../support/command-harness.ts';

/** Commands whose dependency is not configured answer "not available", through the real dispatcher. */
const h = commandHarness();
const { dispatcherFor } = h;

beforeAll(() => h.start());

afterAll(() => h.stop());

describe('a missing dependency', () => {
  it('answers /slowqueries with "Postgres is not available" when there is no database', async () => {
    const { run } = dispatcherFor({ db: null, missing: { postgres: 'DATABASE_URL is not set' } });
    const { reply, run: record } = await run('/slowqueries');
    expect(record.outcome).toBe('unavailable');
    expect(reply.status).toBe('fail');
    expect(reply.summary).toBe('Postgres is not available: DATABASE_URL is not set.');
    expect(record.error).toBe(reply.summary);
  });

  it('answers /queue with "Redis (BullMQ queues) is not available" when there is no Redis', async () => {
    const { run } = dispatcherFor({ redis: null, queues: null, missing: { redis: 'REDIS_URL is not set' } });
    const { reply, run: record } = await run('/queue');
    expect(record.outcome).toBe('unavailable');
    expect(reply.summary).toBe('Redis (BullMQ queues) is not available: REDIS_URL is not set.');
  });
});
