import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's own reference code accepts timestamps within five minutes either way. */
export const MAX_SKEW_SECONDS = 5 * 60;

export type VerifyFailure = 'missing_headers' | 'bad_timestamp' | 'stale_timestamp' | 'future_timestamp' | 'bad_signature';

export interface VerifyInput {
  signingSecret: string;
  /** `X-Slack-Signature`, `v0=<hex>`. */
  signature: string | undefined;
  /** `X-Slack-Request-Timestamp`, unix seconds. */
  timestamp: string | undefined;
  rawBody: Buffer | string;
  nowMs?: number;
}

/**
 * Verify a Slack request signature. Unlike Bolt's receiver, a timestamp too far in the future is
 * refused as well as a stale one, so a captured request cannot be replayed later either way.
 * Returns null when the request is genuine, else why not (never the expected signature).
 */
export function verifySlackSignature(input: VerifyInput): VerifyFailure | null {
  const { signature, timestamp } = input;
  const screened = screenSlackHeaders(signature, timestamp, input.nowMs ?? Date.now());
  if (screened || !signature || !timestamp) return screened ?? 'missing_headers';
  const expected = `v0=${createHmac('sha256', input.signingSecret)
    .update(`v0:${timestamp}:`)
    .update(input.rawBody)
    .digest('hex')}`;
  const given = Buffer.from(signature, 'utf8');
  const wanted = Buffer.from(expected, 'utf8');
  return given.length === wanted.length && timingSafeEqual(given, wanted) ? null : 'bad_signature';
}

/**
 * What the headers alone can tell, before a byte of the body is read: both present, a timestamp
 * shaped like one and within five minutes either way, a signature shaped like `v0=<64 hex>`. A
 * request failing this is refused without buffering what an unauthenticated client sends.
 */
export function screenSlackHeaders(signature: string | undefined, timestamp: string | undefined, nowMs: number): VerifyFailure | null {
  if (!signature || !timestamp) return 'missing_headers';
  if (!/^\d{1,12}$/.test(timestamp)) return 'bad_timestamp';
  const skew = Number(timestamp) - Math.floor(nowMs / 1000);
  if (skew < -MAX_SKEW_SECONDS) return 'stale_timestamp';
  if (skew > MAX_SKEW_SECONDS) return 'future_timestamp';
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) return 'bad_signature';
  return null;
}

/** Sign a body the way Slack does; used by tests, benchmarks and the local Slack stand-in. */
export function signSlackRequest(signingSecret: string, rawBody: string, timestampSeconds: number): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:${rawBody}`).digest('hex')}`;
}
