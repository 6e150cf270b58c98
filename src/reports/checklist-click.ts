import type { AuditChain } from '../audit/chain.ts';
import { AppError } from '../core/errors.ts';
import type { InteractionHandler } from '../core/interactions.ts';
import type { StateStore } from '../db/state.ts';
import { inTransaction } from '../db/transaction.ts';
import type { Outbox } from '../slack/outbox/types.ts';
import { CHECK_HANDLER, CHECKLIST_ACCESS, checkUpdateKey, parseCheckValue, reminderKey, reminderReply, withChecklist } from './checklist.ts';
import { checkItem, checklistOf, lockRun } from './runs.ts';

export interface ChecklistClickDeps {
  state: StateStore;
  audit: AuditChain;
  /** Null where nothing can be posted: the click is still recorded. */
  outbox: Outbox | null;
  now?: () => number;
}

/**
 * A click on a checklist item: recorded once (the UPDATE is guarded by `checked_at IS NULL`, under
 * the run's lock), audited with who and when whatever the outcome, and shown on the report's
 * message (and on its reminder, if one went out).
 */
export function checklistHandler(deps: ChecklistClickDeps): InteractionHandler {
  const now = deps.now ?? Date.now;
  return {
    id: CHECK_HANDLER,
    access: CHECKLIST_ACCESS,
    async handle(interaction) {
      const target = interaction.kind === 'button' ? parseCheckValue(interaction.value) : null;
      if (!target) throw new AppError('stale', 'This button does not name a checklist item.');
      const ready = await deps.state.ready();
      if (ready.kind !== 'ready') throw new AppError('dependency_unavailable', `Cannot record this now: ${ready.why}.`);
      const { invoker } = interaction;
      return inTransaction(ready.pool, async (client) => {
        const run = await lockRun(client, target.runId);
        if (!run) throw new AppError('stale', 'Vigil no longer knows this report.');
        const at = now();
        const checked = await checkItem(client, run.id, target.position, invoker.userId, at);
        const items = await checklistOf(client, run.id);
        const item = items.find((i) => i.position === target.position);
        if (!item) throw new AppError('stale', 'This report has no such checklist item.');
        if (checked && deps.outbox) {
          await deps.outbox.send({ op: 'update', key: checkUpdateKey(run.messageKey, item.position), ref: run.messageKey, message: { reply: withChecklist(run.reply, run.id, items) }, kind: 'report' }, client);
          // An item open now was open at the deadline too, so the reminder went out with it.
          if (run.remindedAt !== null) {
            const ref = reminderKey(run);
            await deps.outbox.send({ op: 'update', key: checkUpdateKey(ref, item.position), ref, message: { reply: reminderReply(run, items) }, kind: 'report' }, client);
          }
        }
        // Last: the chain's lock is held until commit and must never wait on the outbox.
        await deps.audit.append(client, [
          {
            actorId: invoker.userId,
            ...(invoker.userName ? { actorName: invoker.userName } : {}),
            ...(invoker.channelId ? { channel: invoker.channelId } : {}),
            kind: 'report.check',
            subject: run.name,
            outcome: checked ? 'checked' : 'already_checked',
            details: { tick: new Date(run.tickAt).toISOString(), item: item.label, position: item.position },
          },
        ]);
        if (checked) return { reply: { title: 'Checklist', status: 'ok', summary: `Marked "${item.label}" done.` } };
        return { reply: { title: 'Checklist', status: 'info', summary: ['"', item.label, '" was already done by ', { user: item.checkedBy ?? '' }, '.'] } };
      });
    },
  };
}
