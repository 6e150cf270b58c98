import type { IncomingMessage } from 'node:http';

/** Over the route's limit: 413. */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`request body over ${limit} bytes`);
  }
}

/** Not all there within the deadline (stalled or trickled): 408. */
export class BodyTimeout extends Error {
  constructor(readonly deadlineMs: number) {
    super(`request body not received within ${deadlineMs} ms`);
  }
}

/** Too many unverified bytes held across requests already: 503 at once. */
export class BodyBudgetExhausted extends Error {
  constructor(readonly max: number) {
    super(`over ${max} bytes of unverified request bodies in flight`);
  }
}

/** The client went away mid-body: nobody is left to answer. */
export class BodyAborted extends Error {
  constructor() {
    super('client closed the connection before sending the whole body');
  }
}

/**
 * Bytes of request bodies buffered before anything verified who sent them, across every request
 * in flight: what slow or stalled unauthenticated clients could make the process hold.
 */
export interface BodyBudget {
  readonly max: number;
  /** Bytes held now. */
  used(): number;
  /** One request's share; `release()` gives all of it back (idempotent). */
  lease(): BodyLease;
}

export interface BodyLease {
  /** The whole budget's size, for the refusal to say. */
  readonly max: number;
  /** Whether `bytes` more would still fit now (a declared Content-Length, before reading). */
  fits(bytes: number): boolean;
  /** Take `bytes` more; false (and nothing taken) when the budget would be exceeded. */
  take(bytes: number): boolean;
  release(): void;
}

export function createBodyBudget(max: number): BodyBudget {
  let used = 0;
  return {
    max,
    used: () => used,
    lease() {
      let held = 0;
      return {
        max,
        fits: (bytes) => used + bytes <= max,
        take(bytes) {
          if (used + bytes > max) return false;
          used += bytes;
          held += bytes;
          return true;
        },
        release() {
          used -= held;
          held = 0;
        },
      };
    },
  };
}

export interface ReadBodyOptions {
  /** Bytes; more is refused (before buffering when the client declares its length). */
  limit: number;
  /** The whole body must be in within this long of the first read, however it trickles. */
  deadlineMs?: number;
  /** Counts the bytes against a budget shared with other requests (unverified bodies). */
  lease?: BodyLease;
}

/**
 * Read a request body, refusing (before buffering) anything over the limit, whether the client
 * declared its length or streams it, anything the shared budget cannot hold, and anything not all
 * there by the deadline.
 */
export function readBody(req: IncomingMessage, opts: ReadBodyOptions): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > opts.limit) return Promise.reject(new BodyTooLarge(opts.limit));
  if (opts.lease && Number.isFinite(declared) && !opts.lease.fits(declared)) return Promise.reject(new BodyBudgetExhausted(opts.lease.max));
  if (req.complete && req.readableEnded) return Promise.resolve(Buffer.alloc(0));

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const timer =
      opts.deadlineMs === undefined
        ? undefined
        : setTimeout(() => settle(new BodyTimeout(opts.deadlineMs as number)), opts.deadlineMs);
    function settle(err: Error | null): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (err) {
        // Nothing more of this body is wanted; the caller answers and the connection closes.
        chunks.length = 0;
        req.pause();
        reject(err);
      } else resolve(Buffer.concat(chunks, size));
    }
    function onData(chunk: Buffer): void {
      size += chunk.length;
      if (size > opts.limit) return settle(new BodyTooLarge(opts.limit));
      if (opts.lease && !opts.lease.take(chunk.length)) return settle(new BodyBudgetExhausted(opts.lease.max));
      chunks.push(chunk);
    }
    const onEnd = () => settle(null);
    const onError = () => settle(new BodyAborted());
    const onClose = () => settle(new BodyAborted());
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}
