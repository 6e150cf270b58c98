import type pg from 'pg';
import { describeError } from '../core/errors.ts';
import { distinctErrorLogger } from '../db/redis-clients.ts';
import { withTimeout } from '../core/timeout.ts';
import { inTransaction } from '../db/transaction.ts';
import type { Runnable } from '../core/runnable.ts';
import type { Logger } from '../log.ts';
import type { ChannelMessage } from '../core/channel-message.ts';
import type { Button, RichText } from '../core/reply.ts';
import type { Outbox, OutboxRequest } from '../slack/outbox/types.ts';
import { applyNotification, messageKeys, silenced, type AlertGroup, type Intent } from './group.ts';
import type { AlertMetrics } from './metrics.ts';
import { notificationSchema } from './notification.ts';
import { mentionFor, type AlertsConfig } from './routing.ts';
import { escalationBanner, escalationReply, groupMessage, replyMessage, type GroupIncident } from './group-messages.ts';
import { endCalmStorms, markStormDirty, stormFor } from './storm.ts';
import type { Queryable } from '../db/queryable.ts';
import { claimDueNotification, loadGroup, lockGroup, saveGroup, TABLES } from './store.ts';
import { activeVigilSilences, vigilGroupSilence } from './vigil-silences.ts';
import { LATE_FIRING_RETRY_S, type LateFiringJudge } from './late-firing.ts';

export interface AlertProcessorDeps {
  pool: pg.Pool;
  /** Null without Slack: groups are still tracked (for /alerts), nothing is posted. */
  outbox: Outbox | null;
  cfg: AlertsConfig;
  log: Logger;
  metrics: AlertMetrics;
  now?: () => number;
  /** How often stored notifications are looked for besides the intake's nudge. */
  pollMs?: number;
  /** Notifications applied at once by this replica (each group is still applied one at a time). */
  concurrency?: number;
  /** How long handing one notification's messages to the outbox may take (default 10 s). */
  sendTimeoutMs?: number;
  /** A storm summary has something new to show (the feature sends it soon). */
  onStorm?: () => void;
  /** Whether this replica may apply notifications now (see PosterPresence); default: always. */
  mayClaim?: () => Promise<boolean>;
  /** Buttons requesting catalog actions for a group (Silence 1h / 4h / 24h), knowing its incident. */
  actionsFor?: (g: AlertGroup, now: number, incident: GroupIncident | null) => Button[];
  /** The incident worked for the group's current firing (with incidents configured): its message links there. */
  incidentOf?: (db: Queryable, g: AlertGroup) => Promise<GroupIncident | null>;
  /** Settles a firing that may be a late copy (see late-firing.ts); default: apply everything. */
  lateFiring?: LateFiringJudge;
}

export interface AlertProcessor extends Runnable {
  /** Something was stored: look now rather than at the next poll. */
  kick(): void;
  /** Apply every notification due now; resolves when none is left (tests, shutdown). */
  drain(): Promise<number>;
  /**
   * Send a group's changed message under its lock (acknowledge, escalation, silences), bounded:
   * with Redis away the outbox would wait forever while the caller holds a connection and the
   * group's lock; past the send timeout it rejects (an AppError 'timeout') and sends no more.
   */
  sendIntents(db: Queryable, g: AlertGroup, intents: Intent[], originAt: number): Promise<AlertGroup>;
}

/** A group's message as shown now: with its incident and the buttons that go with it. */
type Render = (g: AlertGroup, opts?: { mention?: string | undefined; banner?: RichText }) => Promise<ChannelMessage>;

const DEFAULT_POLL_MS = 1000;
// A notification that failed is tried again after 1 s, 2 s, 4 s … at most a minute apart, for as
// long as it takes (Redis or Postgres down): an alert is never dropped.
const MAX_RETRY_DELAY_MS = 60_000;
const LOUD_ATTEMPTS = new Set([5, 20, 100]);
// Retries (1 + 2 + 4 + 8 + 16 s apart) during which a failed notification keeps its group's later ones waiting.
const ORDERED_RETRIES = 5;
// Sends under the same keys are delivered once, so giving up on a slow one and retrying is safe.
const SEND_TIMEOUT_MS = 10_000;

/**
 * Applies stored notifications to their groups, in the order received, and sends what changed to
 * the Slack outbox. Each notification is one transaction: the outbox messages are sent before it
 * commits under keys derived from (group, epoch, version), so a crash or failure in between makes
 * the retry send the same keys, which the outbox delivers once.
 */
export function createAlertProcessor(deps: AlertProcessorDeps): AlertProcessor {
  const { pool, log, cfg } = deps;
  const now = deps.now ?? Date.now;
  const concurrency = deps.concurrency ?? 2;
  let timer: NodeJS.Timeout | null = null;
  let running = 0;
  let wanted = false;
  let stopped = true;
  let idle: Array<() => void> = [];
  const readFailure = distinctErrorLogger(log, 'alerts: cannot read stored notifications; trying again every second (said again when the error changes)');

  function sendIntents(db: Queryable, g: AlertGroup, intents: Intent[], originAt: number): Promise<AlertGroup> {
    // Once given up on, the abandoned send must not touch the caller's connection again.
    const abandon = new AbortController();
    const sending = sendUnbounded(db, g, intents, originAt, abandon.signal);
    return withTimeout(sending, deps.sendTimeoutMs ?? SEND_TIMEOUT_MS, 'the Slack outbox').catch((err: unknown) => {
      abandon.abort();
      sending.catch(() => undefined);
      throw err;
    });
  }

  async function sendUnbounded(db: Queryable, g: AlertGroup, intents: Intent[], originAt: number, signal?: AbortSignal): Promise<AlertGroup> {
    const outbox = deps.outbox;
    if (!outbox || intents.length === 0) return g;
    let next = g;
    const common = { kind: 'alert', originAt } as const;
    const send = async (req: OutboxRequest, kind: Parameters<AlertMetrics['slackWrite']>[0]) => {
      await outbox.send({ ...req, ...common }, db);
      deps.metrics.slackWrite(kind);
    };
    let replyCount = 0;
    // Asked once per send, and only when a message is rendered (not for thread replies).
    let incident: Promise<GroupIncident | null> | undefined;
    const render: Render = async (g, opts = {}) => {
      incident ??= deps.incidentOf ? deps.incidentOf(db, g) : Promise.resolve(null);
      const shown = await incident;
      return groupMessage(g, now(), { ...opts, incident: shown, actions: deps.actionsFor?.(g, now(), shown) ?? [] });
    };
    for (const intent of intents) {
      signal?.throwIfAborted();
      if (intent.kind === 'post') {
        // In a storm the group is counted in the channel's summary instead of posted.
        const stormId = await stormFor(db, next.channel, next.groupId, cfg.storm, now());
        signal?.throwIfAborted();
        if (stormId !== null) {
          next = { ...next, stormId };
          deps.metrics.slackWrite('storm');
          deps.onStorm?.();
          continue;
        }
        // Vigil's own silences are looked at before posting (Alertmanager's never reach Vigil):
        // a silenced rule alert is shown silenced from the start, without the mention.
        if (next.source === 'vigil') next = { ...next, silence: vigilGroupSilence(next, await activeVigilSilences(db, now())) };
        next = { ...next, messageKey: messageKeys.post(next) };
        const mention = silenced(next, now()) ? undefined : mentionFor(cfg, next.severity);
        await send({ op: 'post', key: next.messageKey as string, channel: next.channel, message: await render(next, { mention }) }, 'post');
        continue;
      }
      if (intent.kind === 'escalate') {
        next = await escalate(next, intent.minutes, send, render);
        continue;
      }
      if (next.messageKey === null) {
        // Shown in a storm summary: that is what changes.
        if (next.stormId !== null) {
          await markStormDirty(db, next.stormId);
          deps.onStorm?.();
        }
        continue;
      }
      if (intent.kind === 'update') {
        await send({ op: 'update', key: messageKeys.update(next), ref: next.messageKey, message: await render(next) }, 'update');
      } else if (!silenced(next, now())) {
        // Silenced on purpose: the message shows every change, the thread stays quiet.
        const mention = intent.mention ? mentionFor(cfg, next.severity) : undefined;
        await send({ op: 'post', key: messageKeys.reply(next, replyCount++), channel: next.channel, threadOf: next.messageKey, message: replyMessage(intent.lines, mention) }, 'reply');
      }
    }
    return next;
  }

  /** Mention on-call in the group's thread and copy its message to the escalation channel. */
  async function escalate(g: AlertGroup, minutes: number, send: (req: OutboxRequest, kind: 'escalation') => Promise<void>, render: Render): Promise<AlertGroup> {
    const esc = cfg.escalation;
    if (!esc) return g;
    if (g.messageKey !== null) {
      await send({ op: 'post', key: messageKeys.escalationReply(g), channel: g.channel, threadOf: g.messageKey, message: escalationReply(minutes, esc.channel, esc.mention) }, 'escalation');
    }
    const banner = escalationBanner(minutes, g.messageKey === null ? null : g.channel);
    await send({ op: 'post', key: messageKeys.escalation(g), channel: esc.channel, message: await render(g, { mention: esc.mention, banner }) }, 'escalation');
    return g;
  }

  /** Apply the oldest due notification; false when there is none (or this replica must leave them). */
  async function processOne(): Promise<boolean> {
    if (deps.mayClaim && !(await deps.mayClaim())) return false;
    return inTransaction(pool, async (client) => {
      const row = await claimDueNotification(client, ORDERED_RETRIES);
      if (!row) return false;
      await client.query('SAVEPOINT apply');
      try {
        const n = notificationSchema.parse(row.payload);
        await lockGroup(client, row.group_id);
        const prev = await loadGroup(client, row.group_id);
        if (!deps.outbox && prev && (prev.messageKey !== null || prev.stormId !== null)) {
          // Shown in Slack, and this replica cannot update it: applied here, the database would say
          // one thing and the message another. Left for a replica that posts, without counting a failure.
          await client.query('ROLLBACK TO SAVEPOINT apply');
          await client.query(`UPDATE ${TABLES.notifications} SET next_attempt_at = now() + interval '5 seconds', last_error = $2 WHERE id = $1`, [
            row.id,
            'waiting for a replica that can update its Slack message',
          ]);
          return true;
        }
        const verdict = prev && prev.lastNotificationId < Number(row.id) && deps.lateFiring ? await deps.lateFiring.judge(prev, n, row.received_at.getTime()) : null;
        if (verdict && verdict.kind !== 'apply') {
          await settleDoubtful(client, row.id, row.group_id, verdict);
          return true;
        }
        if (verdict?.unconfirmed) log.warn({ notification: row.id, group: row.group_id, why: verdict.unconfirmed }, 'alerts: a firing that may be a late copy is shown, unconfirmed by Alertmanager');
        const applied = applyNotification(prev, n, { groupId: row.group_id, notificationId: Number(row.id), now: now(), cfg });
        if ('superseded' in applied) {
          deps.metrics.applied('superseded');
        } else {
          // Bounded: with Redis away the outbox would wait for it forever, holding this transaction.
          const next = await sendIntents(client, applied.next, applied.intents, row.received_at.getTime());
          await saveGroup(client, next);
          deps.metrics.applied(applied.changed ? 'changed' : 'unchanged');
        }
        await client.query(`UPDATE ${TABLES.notifications} SET processed_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1`, [row.id]);
      } catch (err) {
        await client.query('ROLLBACK TO SAVEPOINT apply');
        const attempts = row.attempts + 1;
        const delayMs = Math.min(MAX_RETRY_DELAY_MS, 1000 * 2 ** Math.min(attempts - 1, 16));
        await client.query(
          `UPDATE ${TABLES.notifications} SET attempts = $2, next_attempt_at = now() + make_interval(secs => $3), last_error = $4 WHERE id = $1`,
          [row.id, attempts, delayMs / 1000, describeError(err).slice(0, 2000)],
        );
        deps.metrics.applied('failed');
        const line = { notification: row.id, group: row.group_id, attempts, err: describeError(err) };
        if (LOUD_ATTEMPTS.has(attempts)) log.error(line, 'alerts: a notification keeps failing; it stays stored and is retried');
        else log.warn(line, 'alerts: applying a notification failed; retrying');
      }
      return true;
    });
  }

  /** A late copy changes nothing (noted on its row); a doubtful one waits for Alertmanager to answer. */
  async function settleDoubtful(client: Queryable, id: string, group: string, verdict: { kind: 'stale' | 'hold'; why: string }): Promise<void> {
    await client.query('ROLLBACK TO SAVEPOINT apply');
    if (verdict.kind === 'stale') {
      await client.query(`UPDATE ${TABLES.notifications} SET processed_at = now(), attempts = attempts + 1, last_error = $2 WHERE id = $1`, [id, verdict.why]);
      log.info({ notification: id, group }, 'alerts: a late copy of an earlier firing changed nothing (Alertmanager has it resolved)');
    } else {
      await client.query(`UPDATE ${TABLES.notifications} SET next_attempt_at = now() + make_interval(secs => $3), last_error = $2 WHERE id = $1`, [id, verdict.why, LATE_FIRING_RETRY_S]);
    }
    deps.metrics.applied(verdict.kind === 'stale' ? 'stale' : 'held');
  }

  async function loop(): Promise<void> {
    running += 1;
    try {
      // A nudge that came while the last look found nothing means another look.
      while (!stopped) {
        wanted = false;
        if (!(await processOne()) && !wanted) break;
      }
      readFailure.reset();
    } catch (err) {
      // Polled every second by each loop while Postgres is away: one line per kind of failure.
      readFailure.onError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      running -= 1;
      if (running === 0) for (const resolve of idle.splice(0)) resolve();
    }
  }

  function kick(): void {
    wanted = true;
    if (stopped) return;
    while (running < concurrency) void loop();
  }

  return {
    name: 'alert-processor',
    kick,
    sendIntents,
    async drain() {
      let total = 0;
      while (await processOne()) total += 1;
      return total;
    },
    async start() {
      if (!stopped) return;
      // A storm left open by a stop (its ending is a housekeeping tick's) must not swallow the
      // first alerts after a start: storms whose window has passed end before anything is applied.
      const ended = await endCalmStorms(pool, cfg.storm, now()).catch((err: unknown) => {
        log.warn({ err: describeError(err) }, 'alerts: cannot end past storms at start; the first post decides instead');
        return 0;
      });
      if (ended > 0) {
        log.info({ storms: ended }, 'alerts: ended storms that calmed down while Vigil was stopped');
        deps.onStorm?.();
      }
      stopped = false;
      kick();
      timer = setInterval(kick, deps.pollMs ?? DEFAULT_POLL_MS);
      timer.unref();
    },
    async stop() {
      stopped = true;
      wanted = false;
      if (timer) clearInterval(timer);
      timer = null;
      if (running > 0) await new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
