/**
 * Callers asking for the same thing while it is being computed share that one computation: a
 * burst of identical requests costs one run, and every caller gets its result (or its error).
 * Nothing is kept once the run settles, so this is not a cache: the next call runs again.
 */
export interface SingleFlight<T> {
  run(key: string, work: () => Promise<T>): Promise<T>;
  /** Runs in progress now (for tests and metrics). */
  readonly inFlight: number;
}

export function createSingleFlight<T>(): SingleFlight<T> {
  const running = new Map<string, Promise<T>>();
  return {
    run(key, work) {
      const existing = running.get(key);
      if (existing) return existing;
      const started = work().finally(() => running.delete(key));
      running.set(key, started);
      return started;
    },
    get inFlight() {
      return running.size;
    },
  };
}
