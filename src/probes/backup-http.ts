import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { redactUrl } from '../core/redact.ts';
import { fetchFailure, getWithin } from './http-probe.ts';
import type { Measurement } from './reading.ts';

/** A timestamp answer is a line of text; anything longer is not one. */
const MAX_BODY_BYTES = 64 * 1024;
/** Clocks differ a little; a backup stamped further ahead than this is a wrong answer, not a fresh one. */
const FUTURE_SKEW_MS = 5 * 60_000;

/** 2000-01-01 in epoch seconds: a smaller number (`200`, a count) is some other answer, not a backup's time. */
const EPOCH_FLOOR_S = 946_684_800;
const stamp = z.union([z.iso.datetime({ offset: true }), z.number().finite().min(EPOCH_FLOOR_S)]);

/**
 * What a "latest backup" URL may answer, all with a 2xx status:
 *   `{ "timestamp": T }` or `{ "time": T }` (other keys ignored), or a bare T, where T is an
 *   ISO-8601 date-time with a zone (`2026-12-06T03:00:00Z`, `…+01:00`) or epoch seconds (`1796526000`).
 */
const stampBody = z.union([z.object({ timestamp: stamp }), z.object({ time: stamp }), stamp]);

export const HTTP_STAMP_FORMATS = '{"timestamp": …}, {"time": …} or a bare ISO-8601 time with a zone or epoch seconds';

/**
 * GET the URL and read the newest backup's time from the body. Values: `age_seconds`. Facts:
 * `url` (safe to show), `latest` (the time as ISO-8601). A non-2xx answer, a body that is not
 * one of the formats above, or a time in the future throws with the reason.
 */
export async function measureBackupUrl(urlText: string, timeoutMs: number, now: number): Promise<Measurement> {
  const url = redactUrl(urlText);
  const signal = AbortSignal.timeout(timeoutMs);
  const response = await getWithin(urlText, signal);
  if (response.status < 200 || response.status >= 300) {
    await response.body?.cancel();
    const redirect = response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : '';
    throw new AppError('dependency_unavailable', `GET ${url} answered HTTP ${response.status}${redirect}`);
  }
  let text: string;
  try {
    text = await readBounded(response, MAX_BODY_BYTES, url);
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('dependency_unavailable', `GET ${url} failed reading the body: ${fetchFailure(err)}`);
  }
  const at = stampOf(text);
  if (at === null) throw new AppError('dependency_unavailable', `GET ${url}: the body is not a timestamp (expected ${HTTP_STAMP_FORMATS})`);
  const iso = new Date(at).toISOString();
  if (at - now > FUTURE_SKEW_MS) {
    throw new AppError('dependency_unavailable', `GET ${url}: the timestamp ${iso} is in the future (epoch milliseconds where seconds are expected?)`);
  }
  return { values: { age_seconds: Math.max(0, Math.floor((now - at) / 1000)) }, facts: { url, latest: iso } };
}

/** Milliseconds since the epoch of the body's timestamp, or null when the body is none of the formats. */
export function stampOf(body: string): number | null {
  const text = body.trim();
  if (text === '') return null;
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: a bare ISO-8601 time, unquoted, is the text itself.
  }
  const parsed = stampBody.safeParse(value);
  if (!parsed.success) return null;
  const t = typeof parsed.data === 'object' ? ('timestamp' in parsed.data ? parsed.data.timestamp : parsed.data.time) : parsed.data;
  const ms = typeof t === 'number' ? t * 1000 : Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
}

/** The body as text, refusing one longer than `max` bytes (leaving the loop cancels the rest). */
async function readBounded(response: Response, max: number, url: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (!response.body) return '';
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) throw new AppError('dependency_unavailable', `GET ${url}: the body is over ${max / 1024} KiB, not a timestamp`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
