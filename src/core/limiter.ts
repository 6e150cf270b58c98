/**
 * At most `max` runs of `work` at once; the rest wait in line, unbounded (for a caller that
 * bounds its own total, unlike BoundedSemaphore). A released slot passes straight to the next in
 * line, so `active` only counts real runs.
 */
export function createLimiter(max: number): <T>(work: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (work) => {
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
