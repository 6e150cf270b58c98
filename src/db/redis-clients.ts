import { Redis } from 'ioredis';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../log.ts';

const KEEPALIVE_MS = 10_000;

/**
 * The client probes and commands read through: commands error at once while Redis is down (no
 * offline queue, short timeouts) and it reconnects in the background, so /health reports "down"
 * instead of hanging. Resolves even when Redis is unreachable at start.
 */
export async function connectProbeRedis(url: string, log: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    // Commands issued in the same tick (a burst's replay-guard SET NX, probes) share one write.
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    connectTimeout: 1000,
    commandTimeout: 1500,
    // A link that went silent (TCP still up, no replies) is dropped and redialled, not waited on.
    socketTimeout: 2000,
    keepAlive: KEEPALIVE_MS,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
  });
  logDistinctErrors(redis, log, 'redis connection error');
  trackLinkErrors(redis);
  await redis.connect().catch((err: unknown) => log.warn({ err: describeError(err) }, 'redis not reachable at start; will keep retrying'));
  return redis;
}

const linkErrors = new WeakMap<Redis, Error>();

/**
 * Why the client is not connected, for "Redis at host:port refused the connection" instead of
 * ioredis' "Stream isn't writeable". A SELECT of a database index that does not exist leaves
 * ioredis connected to db 0, where every probe would read the wrong data: that client is closed
 * for good and its error kept.
 */
function trackLinkErrors(redis: Redis): void {
  let fatal = false;
  redis.on('error', (err: Error) => {
    if (fatal) return;
    linkErrors.set(redis, err);
    if (/DB index is out of range/i.test(err.message)) {
      fatal = true;
      redis.disconnect(false);
    }
  });
  redis.on('ready', () => {
    if (!fatal) linkErrors.delete(redis);
  });
}

/** The error that broke the probe client's link, while it is broken. */
export function lastLinkError(redis: Redis): Error | undefined {
  return linkErrors.get(redis);
}

/**
 * The connection for Vigil's own BullMQ queues and workers (the outbox, actions): BullMQ requires
 * `maxRetriesPerRequest: null` there, and blocking commands must wait rather than fail fast.
 */
export function createQueueConnection(url: string, log: Logger): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
    connectTimeout: 5000,
    // Longer than BullMQ's longest block (10 s), so only a link that went silent trips it; BullMQ's
    // duplicated (blocking) connections inherit it.
    socketTimeout: 15_000,
    keepAlive: KEEPALIVE_MS,
  });
  logDistinctErrors(redis, log, 'redis (vigil queues) connection error');
  return redis;
}

/** How long a clean QUIT may take at shutdown before the connection is simply dropped. */
const QUIT_WAIT_MS = 1000;

/**
 * Close a connection at shutdown: QUIT (Redis finishes what it was sent), but on a link that went
 * silent the answer never comes and ioredis would wait out its socket timeout (15 s per
 * connection), so past a second the socket is dropped instead.
 */
export async function closeRedis(redis: Redis): Promise<void> {
  const quit = redis.quit().then(
    () => true,
    () => false,
  );
  const timer = new Promise<false>((resolve) => setTimeout(() => resolve(false), QUIT_WAIT_MS).unref());
  if (!(await Promise.race([quit, timer]))) redis.disconnect();
}

/**
 * An error listener that logs an error only when it differs from the one before: reconnect
 * attempts (and BullMQ queues and workers re-emitting them) repeat the same error every second.
 */
export function distinctErrorLogger(log: Logger, message: string, level: 'warn' | 'error' = 'warn'): { onError(err: Error): void; reset(): void } {
  let lastError = '';
  return {
    onError(err) {
      const text = describeError(err);
      if (text !== lastError) log[level]({ err: text }, message);
      lastError = text;
    },
    reset() {
      lastError = '';
    },
  };
}

function logDistinctErrors(redis: Redis, log: Logger, message: string): void {
  const logger = distinctErrorLogger(log, message);
  redis.on('error', logger.onError);
  redis.on('ready', logger.reset);
}
