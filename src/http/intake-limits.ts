// Its own module, free of imports, so the config schema can take its defaults from here.

/**
 * What one client may hold of the server before anything knows who it is. Node's defaults
 * (headers 60 s, request 300 s, checked every 30 s, no connection cap) let 1,000 stalled uploads
 * hold 250 MB for minutes; a genuine Slack or Alertmanager request is in within milliseconds.
 */
export interface IntakeLimits {
  /** The request line and headers must be in within this long of the request's start. */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must be in within this long. */
  requestTimeoutMs: number;
  /** A body must be all there within this long of the route starting to read it. */
  bodyTimeoutMs: number;
  /** Connections open at once; further ones are closed as they arrive. */
  maxConnections: number;
  /** Body bytes buffered before verification, across all requests in flight; past it, 503 at once. */
  maxUnverifiedBodyBytes: number;
}

export const DEFAULT_INTAKE_LIMITS: IntakeLimits = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  // Within the request's 10 s, past the headers' 5: Node's own check is the backstop.
  bodyTimeoutMs: 8_000,
  maxConnections: 512,
  maxUnverifiedBodyBytes: 32 * 1024 * 1024,
};
