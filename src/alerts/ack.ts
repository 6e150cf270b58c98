import { AppError } from '../core/errors.ts';
import { inTransaction } from '../db/transaction.ts';
import { appendAuditEvents } from '../audit/chain.ts';
import type { InteractionHandler } from '../core/interactions.ts';
import type { StateStore } from '../db/state.ts';
import { applyAck, duration } from './group.ts';
import { ACK_HANDLER } from './message.ts';
import type { AlertProcessor } from './processor.ts';
import { loadGroup, lockGroup, saveGroup } from './store.ts';

const VALUE = /^([0-9a-f]{24}):(\d{1,9})$/;

/**
 * The Acknowledge button: records who and when (MTTA), updates the message, stops escalation.
 * Decided under the group's lock against its current state, so it never reopens a group that
 * resolved meanwhile and never acknowledges a newer firing of the same group.
 */
export function ackHandler(deps: { state: StateStore; processor: AlertProcessor; now?: () => number }): InteractionHandler {
  const now = deps.now ?? Date.now;
  return {
    id: ACK_HANDLER,
    async handle(interaction) {
      const match = interaction.kind === 'button' ? VALUE.exec(interaction.value) : null;
      if (!match) throw new AppError('stale', 'This button does not name an alert group.');
      const [, groupId = '', epochText = '0'] = match;
      const state = await deps.state.ready();
      if (state.kind !== 'ready') throw new AppError('dependency_unavailable', `Cannot record the acknowledgement now: ${state.why}.`);
      const who = interaction.invoker.userName ?? interaction.invoker.userId;

      return inTransaction(state.pool, async (client) => {
        await lockGroup(client, groupId);
        const group = await loadGroup(client, groupId);
        if (!group) throw new AppError('stale', 'Vigil no longer knows this alert group.');
        const at = now();
        const outcome = applyAck(group, Number(epochText), who, at);
        let summary: string;
        await appendAuditEvents(client, [
          {
            actorId: interaction.invoker.userId,
            ...(interaction.invoker.userName ? { actorName: interaction.invoker.userName } : {}),
            ...(interaction.invoker.channelId ? { channel: interaction.invoker.channelId } : {}),
            kind: 'alert.ack',
            subject: groupId,
            outcome: outcome.kind,
            details: { epoch: Number(epochText), severity: group.severity, alertname: group.view.commonLabels.alertname ?? null },
          },
        ]);
        if (outcome.kind === 'acked') {
          const sent = await deps.processor.sendIntents(client, outcome.next, [{ kind: 'update' }], at);
          await saveGroup(client, sent);
          summary = `Acknowledged ${duration(at - group.firedAt)} after it fired. Escalation is stopped.`;
        } else if (outcome.kind === 'already_acked') {
          summary = `Already acknowledged by ${outcome.by}.`;
        } else if (outcome.kind === 'resolved') {
          summary = 'This alert group has already resolved; there is nothing to acknowledge.';
        } else {
          summary = 'This message is about an earlier firing of the group; acknowledge its newest message instead.';
        }
        return { reply: { title: 'Alert', status: outcome.kind === 'acked' ? 'ok' : 'info', summary } };
      });
    },
  };
}
