import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBoundedSemaphore } from '../../../src/core/bounded-semaphore.ts';
import { createSingleFlight } from '../../../src/core/single-flight.ts';

class Busy extends Error {}

/** A promise with its resolve exposed: work that finishes when the test says so. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('createBoundedSemaphore', () => {
  it('runs at most `permits` at once and hands a freed permit to the next waiter, in order', async () => {
    const sem = createBoundedSemaphore({ permits: 2, maxWaitMs: 10_000, maxWaiters: 10, busy: () => new Busy() });
    const started: number[] = [];
    const gates = [gate(), gate(), gate(), gate()];
    const runs = gates.map((g, i) => sem.run(async () => {
      started.push(i);
      await g.promise;
      return i;
    }));
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect([sem.active, sem.waiting]).toEqual([2, 2]);
    gates[1]?.open();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect([sem.active, sem.waiting]).toEqual([0, 0]);
  });

  it('answers busy after maxWaitMs without a permit, and at once past maxWaiters', async () => {
    vi.useFakeTimers();
    const sem = createBoundedSemaphore({ permits: 1, maxWaitMs: 1000, maxWaiters: 1, busy: () => new Busy('busy') });
    const hold = gate();
    const first = sem.run(() => hold.promise);
    const waiting = sem.run(async () => 'late');
    await expect(sem.run(async () => 'over')).rejects.toBeInstanceOf(Busy);
    const rejected = expect(waiting).rejects.toBeInstanceOf(Busy);
    await vi.advanceTimersByTimeAsync(1000);
    await rejected;
    expect(sem.waiting).toBe(0);
    hold.open();
    await first;
    expect(sem.active).toBe(0);
    // The permit is free again: the next caller runs at once.
    expect(await sem.run(async () => 'next')).toBe('next');
  });

  it('gives the permit back when the work throws', async () => {
    const sem = createBoundedSemaphore({ permits: 1, maxWaitMs: 1000, maxWaiters: 1, busy: () => new Busy() });
    await expect(sem.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(sem.active).toBe(0);
  });
});

describe('createSingleFlight', () => {
  it('shares one run between callers of the same key while it runs, and runs again afterwards', async () => {
    const flights = createSingleFlight<number>();
    let calls = 0;
    const hold = gate();
    const work = async (): Promise<number> => {
      calls += 1;
      await hold.promise;
      return calls;
    };
    const a = flights.run('k', work);
    const b = flights.run('k', work);
    const other = flights.run('other', work);
    expect(flights.inFlight).toBe(2);
    hold.open();
    expect(await Promise.all([a, b, other])).toEqual([2, 2, 2]);
    expect(calls).toBe(2);
    expect(flights.inFlight).toBe(0);
    await flights.run('k', work);
    expect(calls).toBe(3);
  });

  it('gives every caller the error of a failed run, then forgets it', async () => {
    const flights = createSingleFlight<number>();
    const failing = flights.run('k', async () => Promise.reject(new Error('down')));
    const joined = flights.run('k', async () => 1);
    await expect(failing).rejects.toThrow('down');
    await expect(joined).rejects.toThrow('down');
    expect(await flights.run('k', async () => 1)).toBe(1);
  });
});
