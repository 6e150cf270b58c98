import { createBoundedSemaphore, type BoundedSemaphore } from '../core/bounded-semaphore.ts';
import { AppError } from '../core/errors.ts';
import { createSingleFlight } from '../core/single-flight.ts';
import { withTimeout } from '../core/timeout.ts';
import { sampleBigKeys, type BigKeySample, type BigKeySource, type SampleOptions } from './redis-bigkeys.ts';
import { readRedisInfo, type RedisInfoReading, type RedisInfoSource } from './redis-probe.ts';
import { readSlowlog, type Slowlog, type SlowlogSource } from './redis-slowlog.ts';

/**
 * What /redis reads, over the fast-failing probe client (each command already fails within its
 * command timeout): INFO and the slow log in one go, or a bounded big-key sample. A burst of the
 * same request shares one run, and sampling is rationed, so an incident's worth of people typing
 * /redis costs Redis one INFO and at most SAMPLE_PERMITS samples at a time.
 */
export type RedisInspectSource = RedisInfoSource & SlowlogSource & BigKeySource;

/** The whole /redis answer is due within this, whatever each call's own timeout. */
export const OVERVIEW_TIMEOUT_MS = 2000;
/** A sample's own budget plus one batch and the TYPE calls. */
export const SAMPLE_TIMEOUT_MS = 2500;
export const SLOWLOG_ENTRIES = 10;
export const SAMPLE_PERMITS = 2;
export const SAMPLE_MAX_WAIT_MS = 1000;
const MAX_WAITERS = 20;
export const SAMPLE_BUSY_MESSAGE = 'Redis is busy with other big-key samples; try again in a moment.';

export interface RedisOverview {
  reading: RedisInfoReading;
  slowlog: Slowlog;
}

export interface RedisInspector {
  overview(): Promise<RedisOverview>;
  bigKeys(opts: SampleOptions): Promise<BigKeySample>;
  readonly gate: BoundedSemaphore;
}

// Keyed by the client: every command bound to the same Redis shares the rationing.
const byClient = new WeakMap<RedisInspectSource, RedisInspector>();

/** `at` names Redis (host:port) in a timeout's message, as a dependency error would. */
export function redisInspectorFor(redis: RedisInspectSource, at: string | null, now: () => number = Date.now): RedisInspector {
  let inspector = byClient.get(redis);
  if (!inspector) {
    inspector = createRedisInspector(redis, at, now);
    byClient.set(redis, inspector);
  }
  return inspector;
}

function createRedisInspector(redis: RedisInspectSource, at: string | null, now: () => number): RedisInspector {
  const what = at ? `Redis at ${at}` : 'Redis';
  const overviews = createSingleFlight<RedisOverview>();
  const samples = createSingleFlight<BigKeySample>();
  const gate = createBoundedSemaphore({
    permits: SAMPLE_PERMITS,
    maxWaitMs: SAMPLE_MAX_WAIT_MS,
    maxWaiters: MAX_WAITERS,
    busy: () => new AppError('timeout', SAMPLE_BUSY_MESSAGE),
  });
  return {
    gate,
    overview: () =>
      overviews.run('overview', async () => {
        const [reading, slowlog] = await withTimeout(Promise.all([readRedisInfo(redis, now), readSlowlog(redis, SLOWLOG_ENTRIES)]), OVERVIEW_TIMEOUT_MS, what);
        return { reading, slowlog };
      }),
    bigKeys: (opts) =>
      samples.run(JSON.stringify([opts.pattern, opts.top]), () => gate.run(() => withTimeout(sampleBigKeys(redis, opts), SAMPLE_TIMEOUT_MS, what))),
  };
}
