import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { inTransaction } from '../db/transaction.ts';
import { fingerprintOf } from './alertmanager.ts';
import type { Notification } from './notification.ts';
import { channelFor, type AlertsConfig } from './routing.ts';
import { storeNotification } from './store.ts';

export const TEST_ALERTNAME = 'VigilTestAlert';
const TEST_RECEIVER = 'vigil-test';
/** How long a test alert fires before it resolves by itself. */
export const TEST_RESOLVE_AFTER_MS = 60_000;

export interface TestAlertSent {
  groupId: string;
  /** Where its severity routes it (the message appears there). */
  channel: string;
  resolveAfterMs: number;
  /** The same, as its summary says it: "1 minute". */
  resolvesIn: string;
}

/** "1 minute", "90 seconds": how long the test alert fires, as its text says it. */
export function inWords(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s % 60 === 0 && s > 0) return s === 60 ? '1 minute' : `${s / 60} minutes`;
  return s === 1 ? '1 second' : `${s} seconds`;
}

/**
 * A test alert's group as Alertmanager would send it, firing and then resolved: clearly marked
 * (its name, a `vigil_test` label, its summary) and a group of its own, so it never joins or
 * resolves a real one.
 */
export function testAlertNotifications(severity: string, from: string, o: { id: string; now: number; resolveAfterMs: number }): { firing: Notification; resolved: Notification } {
  const labels = { alertname: TEST_ALERTNAME, severity, vigil_test: 'true' };
  const annotations = {
    summary: `Test alert from ${from}: checks that ${severity} alerts reach this channel. It resolves by itself in ${inWords(o.resolveAfterMs)}.`,
    description: `Sent with /alerts test ${severity}. Nothing is wrong and nothing needs doing.`,
  };
  const startsAt = new Date(o.now).toISOString();
  const at = (status: 'firing' | 'resolved'): Notification => ({
    source: 'vigil',
    receiver: TEST_RECEIVER,
    groupKey: `vigil-test:${o.id}`,
    status,
    groupLabels: { alertname: TEST_ALERTNAME },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: null,
    truncatedAlerts: 0,
    alerts: [
      {
        fingerprint: fingerprintOf(labels),
        status,
        labels,
        annotations,
        startsAt,
        endsAt: status === 'resolved' ? new Date(o.now + o.resolveAfterMs).toISOString() : null,
        generatorURL: null,
      },
    ],
  });
  return { firing: at('firing'), resolved: at('resolved') };
}

export interface TestAlertDeps {
  pool: pg.Pool;
  cfg: AlertsConfig;
  /** Both notifications are committed: count them and wake the processor. */
  stored: (notifications: Notification[]) => void;
  resolveAfterMs?: number;
  now?: () => number;
}

/**
 * `/alerts test <severity>`: the firing notification and its resolve, stored together; the
 * resolve only becomes due after `resolveAfterMs`, so a restart in between still resolves it. From
 * there it takes the path of any alert: the processor, routing by severity, the outbox.
 */
export function createTestAlertSender(deps: TestAlertDeps): (severity: string, from: string) => Promise<TestAlertSent> {
  const resolveAfterMs = deps.resolveAfterMs ?? TEST_RESOLVE_AFTER_MS;
  return async (severity, from) => {
    const { firing, resolved } = testAlertNotifications(severity, from, { id: randomBytes(8).toString('hex'), now: (deps.now ?? Date.now)(), resolveAfterMs });
    const { groupId } = await inTransaction(deps.pool, async (client) => {
      const stored = await storeNotification(client, firing);
      await storeNotification(client, resolved, { dueInMs: resolveAfterMs });
      return stored;
    });
    deps.stored([firing, resolved]);
    return { groupId, channel: channelFor(deps.cfg, firing.commonLabels, severity), resolveAfterMs, resolvesIn: inWords(resolveAfterMs) };
  };
}
