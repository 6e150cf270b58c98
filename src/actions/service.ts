import type pg from 'pg';
import type { AuditEvent } from '../audit/chain.ts';
import type { Invoker } from '../core/command.ts';
import { AppError, describeError } from '../core/errors.ts';
import { withTimeout } from '../core/timeout.ts';
import { formatDuration } from '../core/format.ts';
import type { Reply } from '../core/reply.ts';
import type { Queryable } from '../db/queryable.ts';
import type { StateStore } from '../db/state.ts';
import { inTransaction } from '../db/transaction.ts';
import type { Logger } from '../log.ts';
import type { ChannelMessage } from '../core/channel-message.ts';
import type { Outbox } from '../slack/outbox/types.ts';
import type { MemberDirectory } from '../access/members.ts';
import type { AccessPolicy } from '../access/policy.ts';
import type { Refusal } from '../core/refusal.ts';
import { richTextString } from '../core/reply.ts';
import type { ActionDefinition } from './definition.ts';
import { approvalReply, resultText } from './messages.ts';
import type { ActionMetrics } from './metrics.ts';
import { explainRefusal, refuseApproval, refuseDenial } from './policy.ts';
import { newRequestId, type ActionRequest } from './request.ts';
import { parseDuration } from './params.ts';
import { insertRequest, loadRequest, recordApproval, recordDenial, setMessageKey } from './store.ts';

/** Appends audit events inside the caller's transaction, so each commits with the change it records. */
export type AuditAppend = (db: Queryable, events: AuditEvent[]) => Promise<void>;

// Handing a message to the outbox is a few Redis round trips; longer means Redis is away.
const PUBLISH_TIMEOUT_MS = 5000;

export interface ActionServiceDeps {
  state: StateStore;
  /** Null without Slack: requests are still kept and decided in the shell, nothing is posted. */
  outbox: Outbox | null;
  approvalChannel: string;
  catalog: ReadonlyMap<string, ActionDefinition>;
  directory: MemberDirectory;
  /** The access policy: who may request which action (its `requesters`). */
  access: Pick<AccessPolicy, 'check'>;
  audit: AuditAppend;
  /** Hand an approved request to the worker queue (idempotent: the job id derives from the request). */
  enqueue(requestId: string): Promise<void>;
  metrics: ActionMetrics;
  log: Logger;
}

export interface ActionService {
  request(actionId: string, params: Record<string, unknown>, reason: string | null, invoker: Invoker): Promise<Reply>;
  /** `refused`: not decided (not an approver, own request, expired, decided already), said in the reply. */
  decide(decision: 'approve' | 'deny', requestId: string, invoker: Invoker): Promise<{ reply: Reply; refused: boolean }>;
  /** Post a new version of the approval message and, optionally, a reply in its thread. */
  publish(db: Queryable, req: ActionRequest, thread?: ChannelMessage): Promise<void>;
  definition(actionId: string): ActionDefinition | undefined;
}

/**
 * Requests and decisions. Fails closed: with Vigil's state database away nothing can be requested
 * or approved, because it could not be audited. Every change and its audit event commit together.
 */
export function createActionService(deps: ActionServiceDeps): ActionService {
  const { catalog, metrics } = deps;

  async function statePool(what: string): Promise<pg.Pool> {
    const s = await deps.state.ready();
    if (s.kind !== 'ready') throw new AppError('dependency_unavailable', `Cannot ${what}: Vigil's state database is not available (${s.why}), and nothing may run unaudited.`);
    return s.pool;
  }

  /** Bounded: with Redis away the outbox waits for it forever, holding the caller's transaction. */
  async function publish(db: Queryable, req: ActionRequest, thread?: ChannelMessage): Promise<void> {
    try {
      await withTimeout(publishUnbounded(db, req, thread), PUBLISH_TIMEOUT_MS, 'the Slack outbox');
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError('dependency_unavailable', `Cannot post the approval message now (${describeError(err)}); nothing was requested or decided.`);
    }
  }

  async function publishUnbounded(db: Queryable, req: ActionRequest, thread?: ChannelMessage): Promise<void> {
    const outbox = deps.outbox;
    if (!outbox) return;
    const def = catalog.get(req.action);
    const message = { reply: approvalReply(req, def?.title ?? req.action) };
    const postKey = `action:${req.id}`;
    if (req.messageKey === null) {
      // The database first: a send given up on (timeout) must not touch the connection afterwards.
      await setMessageKey(db, req.id, postKey);
      await outbox.send({ op: 'post', key: postKey, channel: deps.approvalChannel, message, kind: 'approval' }, db);
    } else {
      await outbox.send({ op: 'update', key: `${postKey}:v${req.version}`, ref: req.messageKey, message, kind: 'approval' }, db);
    }
    if (thread) {
      await outbox.send({ op: 'post', key: `${postKey}:r${req.version}`, channel: deps.approvalChannel, threadOf: postKey, message: thread, kind: 'approval' }, db);
    }
  }

  /**
   * Self-service: an approver asking for a silence within the action's `selfServiceUpTo` needs
   * nobody else. Says why (kept as who decided), or null. Fails closed: an approver Slack cannot
   * confirm (a user group it cannot list) asks as anyone would.
   */
  async function selfServed(def: ActionDefinition, params: Record<string, string | number>, invoker: Invoker): Promise<string | null> {
    const upTo = def.selfServiceUpToMs;
    const ms = typeof params.duration === 'string' ? parseDuration(params.duration) : null;
    if (!def.policy || !upTo || ms === null || ms > upTo) return null;
    const approver = await deps.directory.isApprover(invoker.userId, def.policy).catch(() => false);
    return approver ? `self-service: a silence of up to ${formatDuration(upTo / 1000)} asked by an approver` : null;
  }

  /** Audited (the state database must take it, or the refusal fails like any request would), then thrown. */
  async function refuseRequest(def: ActionDefinition, refusal: Refusal, invoker: Invoker): Promise<never> {
    const pool = await statePool('request an action');
    await inTransaction(pool, (db) =>
      deps.audit(db, [{ ...actor(invoker), kind: 'action.request', subject: def.id, outcome: 'refused', details: { rule: refusal.rule } }]),
    );
    // The refusal rides along as the cause: the dispatcher puts its rule on the command's audit row.
    throw new AppError('forbidden', richTextString(refusal.message), refusal.message, { cause: refusal });
  }

  const actor = (i: Invoker) => ({ actorId: i.userId, ...(i.userName ? { actorName: i.userName } : {}), ...(i.channelId ? { channel: i.channelId } : {}) });

  return {
    publish,
    definition: (id) => catalog.get(id),

    async request(actionId, raw, reason, invoker) {
      const def = catalog.get(actionId);
      if (!def) throw new AppError('bad_args', `Unknown action "${actionId}". /run lists the actions you can request.`);
      // Before anything else: a refused requester learns nothing about the parameters either.
      const refusal = await deps.access.check({ kind: 'action.request', action: def.id, requesters: def.requesters }, invoker);
      if (refusal) {
        metrics.requested(actionId, 'refused');
        await refuseRequest(def, refusal, invoker);
      }
      // A silence's comment is its reason: `--reason` fills it unless given on its own.
      const withReason = def.reasonParam && reason && raw[def.reasonParam] === undefined ? { ...raw, [def.reasonParam]: reason } : raw;
      const parsed = def.params.safeParse(withReason);
      if (!parsed.success) {
        metrics.requested(actionId, 'refused');
        const why = parsed.error.issues.map((i) => `${i.path.length ? `--${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
        throw new AppError('bad_args', `${actionId}: ${why}. Parameters: ${describeParams(def)}.`);
      }
      if (def.needsReason && !reason) throw new AppError('bad_args', `${actionId} needs a reason: add --reason "…".`);
      const params = parsed.data;
      const missingTarget = await def.checkTarget(params);
      if (missingTarget) {
        metrics.requested(actionId, 'refused');
        throw new AppError('bad_args', `${actionId}: ${missingTarget}`);
      }
      const selfService = await selfServed(def, params, invoker);
      const pool = await statePool('request an action');
      const req = await inTransaction(pool, async (db) => {
        const created = await insertRequest(db, {
          id: newRequestId(),
          action: def.id,
          params,
          preview: def.preview(params),
          risk: def.risk,
          reason,
          requestedBy: invoker.userId,
          requestedByName: invoker.userName ?? null,
          channel: invoker.channelId ?? null,
          approvalsNeeded: def.policy && !selfService ? def.policy.approvals : 0,
          expiresInMs: def.expiresAfterMs,
          ...(selfService ? { decidedBy: selfService } : {}),
        });
        // The outbox first: the audit append takes the chain lock, held until commit, which must
        // never wait on Redis (it would hold every other replica's audit writes with it).
        await publish(db, created);
        const details = { params, preview: created.preview, reason, ...(selfService ? { selfService } : {}) };
        await deps.audit(db, [{ ...actor(invoker), kind: 'action.request', subject: def.id, requestId: created.id, outcome: created.state, details }]);
        return created;
      });
      metrics.requested(def.id, req.state === 'approved' ? 'auto_approved' : 'requested');
      if (req.state === 'approved') await deps.enqueue(req.id).catch((err: unknown) => deps.log.warn({ request: req.id, err }, 'actions: enqueue failed; the sweep retries it'));
      return {
        title: `Requested: ${def.title}`,
        status: 'info',
        summary:
          req.state === 'approved'
            ? selfService
              ? `${def.id} runs now (request ${req.id}): ${selfService}.`
              : `${def.id} needs no approval; it runs now (request ${req.id}).`
            : [
                `Request ${req.id} is waiting for ${req.approvalsNeeded} approval(s)`,
                ...(deps.outbox ? [' in ', { channel: deps.approvalChannel }] : []),
                `; it expires at ${new Date(req.expiresAt).toISOString().slice(11, 16)} UTC.`,
              ],
        sections: [{ heading: 'Will run', text: req.preview }],
        data: { request: req.id, state: req.state },
      };
    },

    async decide(decision, requestId, invoker) {
      const pool = await statePool(decision === 'approve' ? 'approve' : 'deny');
      const current = await loadRequest(pool, requestId);
      if (!current) throw new AppError('stale', 'Vigil has no such request.');
      const def = catalog.get(current.action);
      if (!def) throw new AppError('stale', `The action ${current.action} is no longer in the catalog; nothing will run.`);
      const isApprover = def.policy ? await deps.directory.isApprover(invoker.userId, def.policy) : false;
      const now = Date.now();
      const refusal =
        decision === 'approve'
          ? def.policy
            ? refuseApproval(current, invoker.userId, isApprover, def.policy, now)
            : ({ kind: 'not_pending', state: current.state } as const)
          : refuseDenial(current, invoker.userId, isApprover, now);

      const outcome = await inTransaction(pool, async (db) => {
        const changed = refusal
          ? null
          : decision === 'approve'
            ? await recordApproval(db, requestId, invoker.userId, invoker.userName ?? null, def.policy?.allowSelfApproval ?? false)
            : await recordDenial(db, requestId, invoker.userId, invoker.userName ?? null);
        if (!changed) {
          // Refused, or lost a race (another click, an expiry): audited, and explained from the row as it is now.
          const now2 = (await loadRequest(db, requestId)) ?? current;
          // Lost a race: a double click of this approver, an expiry, or another decision.
          const why =
            refusal ??
            (now2.state === 'requested' && now2.approvals.some((a) => a.userId === invoker.userId)
              ? { kind: 'already_approved' as const }
              : now2.state === 'requested' || now2.state === 'expired'
                ? { kind: 'expired' as const }
                : { kind: 'not_pending' as const, state: now2.state });
          await deps.audit(db, [{ ...actor(invoker), kind: `action.${decision}`, subject: def.id, requestId, outcome: `refused:${why.kind}`, details: { state: now2.state } }]);
          return { changed: null, message: explainRefusal(why, now2) };
        }
        const thread = decision === 'deny' ? { text: `⛔ Denied by ${invoker.userName ?? invoker.userId}: nothing will run.` } : undefined;
        // Published before the audit append, which holds the chain lock until commit.
        await publish(db, changed, thread);
        await deps.audit(db, [{ ...actor(invoker), kind: `action.${decision}`, subject: def.id, requestId, outcome: changed.state, details: { approvals: changed.approvals.length, needed: changed.approvalsNeeded } }]);
        return { changed, message: '' };
      });

      if (!outcome.changed) {
        metrics.decided(def.id, 'refused');
        return { reply: { title: 'Not allowed', status: 'info', summary: outcome.message }, refused: true };
      }
      const changed = outcome.changed;
      metrics.decided(def.id, decision);
      if (changed.state === 'approved') {
        await deps.enqueue(changed.id).catch((err: unknown) => deps.log.warn({ request: changed.id, err }, 'actions: enqueue failed; the sweep retries it'));
      }
      const summary =
        changed.state === 'approved'
          ? `Approved: ${def.id} runs now. The result follows in the thread.`
          : changed.state === 'denied'
            ? `Denied: ${def.id} will not run.`
            : `Your approval is recorded (${changed.approvals.length} of ${changed.approvalsNeeded}); it still needs someone else.`;
      return { reply: { title: 'Request', status: 'ok', summary }, refused: false };
    },
  };
}

function describeParams(def: ActionDefinition): string {
  const entries = Object.entries(def.paramHelp);
  return entries.length === 0 ? 'none' : entries.map(([name, help]) => `--${name} ${help}`).join(', ');
}
