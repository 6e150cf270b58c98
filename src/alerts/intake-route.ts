import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import { describeError } from '../core/errors.ts';
import type { StateStore } from '../db/state.ts';
import { sendJson } from '../http/respond.ts';
import type { Route } from '../http/route.ts';
import type { Logger } from '../log.ts';
import { alertmanagerPayloadSchema, fromAlertmanager } from './alertmanager.ts';
import type { AlertMetrics } from './metrics.ts';
import type { Notification } from './notification.ts';
import { severityOf } from './routing.ts';
import type pg from 'pg';
import { createNotificationWriter, type NotificationWriter } from './notification-writer.ts';
import { recordHeartbeat, splitHeartbeat } from './deadman.ts';

export const ALERTMANAGER_PATH = '/alerts/alertmanager';
// Alertmanager sends every alert of a group in one body; 4 MiB holds thousands of them.
export const MAX_ALERT_BODY_BYTES = 4 * 1024 * 1024;

export interface IntakeDeps {
  /** ALERT_WEBHOOK_TOKEN; without it every request is refused. */
  token: string | undefined;
  state: StateStore;
  metrics: AlertMetrics;
  log: Logger;
  /** The dead-man's switch heartbeat alert, when configured: recorded, never stored or shown. */
  heartbeat?: string | undefined;
  /** Called after a notification is stored, so it is applied now rather than at the next poll. */
  stored(n: Notification): void;
}

/**
 * `POST /alerts/alertmanager`: Alertmanager's webhook. The answer tells Alertmanager what to do:
 * 2xx only once the notification is in Postgres; 5xx (which it retries) while Vigil cannot store
 * it; 4xx (which it does not retry) for a request that will never be right.
 */
export function alertmanagerRoute(deps: IntakeDeps): Route {
  const expected = deps.token === undefined ? null : digest(deps.token);
  // One writer per pool (the state pool is created once, but ready() hands it out per request).
  const writers = new WeakMap<pg.Pool, NotificationWriter>();
  const writerFor = (pool: pg.Pool) => writers.get(pool) ?? writers.set(pool, createNotificationWriter(pool)).get(pool) as NotificationWriter;
  return {
    method: 'POST',
    path: ALERTMANAGER_PATH,
    maxBodyBytes: MAX_ALERT_BODY_BYTES,
    authorize(headers) {
      if (expected !== null && presented(headers, expected)) return null;
      deps.metrics.rejected('unauthorized');
      return {
        status: 401,
        body: { error: expected === null ? 'alert intake is off: ALERT_WEBHOOK_TOKEN is not set' : 'missing or wrong bearer token' },
      };
    },
    async handle(req, res) {
      let json: unknown;
      try {
        json = JSON.parse(req.rawBody.toString('utf8'));
      } catch {
        deps.metrics.rejected('invalid');
        return sendJson(res, 400, { error: 'body is not JSON' });
      }
      const parsed = alertmanagerPayloadSchema.safeParse(json);
      if (!parsed.success) {
        deps.metrics.rejected('invalid');
        return sendJson(res, 400, { error: `not an Alertmanager webhook payload: ${reasons(parsed.error)}` });
      }
      const received = fromAlertmanager(parsed.data);
      const { heartbeat, rest: notification } = deps.heartbeat ? splitHeartbeat(received, deps.heartbeat) : { heartbeat: false, rest: received };
      const state = await deps.state.ready();
      if (state.kind !== 'ready') {
        deps.metrics.rejected('unavailable');
        return sendJson(res, 503, { error: `cannot store alerts now: ${state.why}` });
      }
      let stored: { id: number; groupId: string } | null = null;
      try {
        if (heartbeat && deps.heartbeat) await recordHeartbeat(state.pool, deps.heartbeat, Date.now());
        if (notification) stored = await writerFor(state.pool).store(notification);
      } catch (err) {
        deps.metrics.rejected('unavailable');
        deps.log.warn({ err: describeError(err) }, 'alerts: could not store a notification; Alertmanager will retry');
        return sendJson(res, 503, { error: 'cannot store alerts now; retry' });
      }
      if (!notification || !stored) return sendJson(res, 200, { status: 'heartbeat' });
      const severity = severityOf(notification);
      for (const a of notification.alerts) deps.metrics.received(notification.source, severity, a.status);
      deps.stored(notification);
      sendJson(res, 200, { status: 'stored', id: stored.id, group: stored.groupId });
    },
  };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant time: both sides are hashed to the same length before comparing. */
function presented(headers: IncomingHttpHeaders, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match !== null && timingSafeEqual(digest(match[1] as string), expected);
}

function reasons(error: z.ZodError): string {
  const shown = error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return shown.join('; ') + (error.issues.length > 5 ? `; and ${error.issues.length - 5} more` : '');
}
