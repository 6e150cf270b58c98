import { describeError } from '../core/errors.ts';
import type { Runnable } from '../core/runnable.ts';
import type { Logger } from '../log.ts';

export interface PollLoop extends Runnable {
  /** Something changed: look now rather than at the next poll. */
  kick(): void;
}

/**
 * Runs `step` while it finds work (it returns true), when kicked and every `pollMs`. One run at a
 * time per replica; replicas share the work through SQL (leases, SKIP LOCKED), not through this.
 * A failing step is logged (once per kind of error) and tried again at the next poll.
 */
export function createPollLoop(o: { name: string; pollMs: number; step: () => Promise<boolean>; log: Logger; ready?: () => Promise<boolean> }): PollLoop {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = true;
  let lastError = '';

  async function run(): Promise<void> {
    do {
      again = false;
      try {
        // Not before Vigil's schema is there (Postgres down at start): looked at again at the next poll.
        if (o.ready && !(await o.ready())) continue;
        while (!stopped && (await o.step()));
        lastError = '';
      } catch (err) {
        const text = describeError(err);
        if (text !== lastError) o.log.warn({ err: text }, `${o.name}: a step failed; tried again at the next poll`);
        lastError = text;
      }
    } while (again && !stopped);
  }

  function kick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = run().finally(() => {
      running = null;
    });
  }

  return {
    name: o.name,
    kick,
    async start() {
      if (!stopped) return;
      stopped = false;
      timer = setInterval(kick, o.pollMs);
      timer.unref();
      kick();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
