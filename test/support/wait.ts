/** Poll `check` until it returns a truthy value or `timeoutMs` passes; the last value is returned either way. */
export async function waitFor<T>(check: () => Promise<T> | T, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const { timeoutMs = 5000, intervalMs = 25, what = 'condition' } = opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `waitFor` for a value that is there once the condition holds: the value itself, never undefined. */
export async function waitForValue<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs?: number): Promise<T> {
  const value = await waitFor(check, { what, ...(timeoutMs ? { timeoutMs } : {}) });
  if (value === undefined) throw new Error(`no ${what}`);
  return value;
}
