/**
 * At most `permits` runs at once; a caller waits for a permit at most `maxWaitMs`, behind at most
 * `maxWaiters` others, and otherwise gets `busy()` at once. Used to give a slow command a share of
 * a pool, not all of it, and to answer "busy" quickly rather than queue without end.
 */
export interface BoundedSemaphoreOptions {
  permits: number;
  maxWaitMs: number;
  maxWaiters: number;
  /** The error a caller gets when no permit came in time. */
  busy: () => Error;
}

export interface BoundedSemaphore {
  run<T>(work: () => Promise<T>): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

export function createBoundedSemaphore(opts: BoundedSemaphoreOptions): BoundedSemaphore {
  let active = 0;
  const queue: Waiter[] = [];

  function acquire(): Promise<void> {
    if (active < opts.permits) {
      active++;
      return Promise.resolve();
    }
    if (queue.length >= opts.maxWaiters) return Promise.reject(opts.busy());
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        // The permit passes straight from releaser to waiter: `active` does not change.
        grant: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          queue.splice(queue.indexOf(waiter), 1);
          reject(opts.busy());
        }, opts.maxWaitMs),
      };
      waiter.timer.unref();
      queue.push(waiter);
    });
  }

  function release(): void {
    const next = queue.shift();
    if (next) next.grant();
    else active--;
  }

  return {
    async run(work) {
      await acquire();
      try {
        return await work();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
  };
}
