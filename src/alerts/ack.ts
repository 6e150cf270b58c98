import type { Interaction, InteractionHandler } from '../core/interactions.ts';
import type { RichText } from '../core/reply.ts';
import type { AuditChain } from '../audit/chain.ts';
import type { StateStore } from '../db/state.ts';
import { duration, type AlertGroup } from './group.ts';
import { applyAck, applyUnack } from './group-transitions.ts';
import { ACK_HANDLER, ALERT_MESSAGE_ACCESS, UNACK_HANDLER } from './message.ts';
import type { AlertProcessor } from './processor.ts';
import { withClickedGroup } from './group-click.ts';
import { saveGroup } from './store.ts';

interface AckDeps {
  state: StateStore;
  audit: AuditChain;
  processor: AlertProcessor;
  now?: () => number;
}

/** What one click decided: the group to save and show (if it changed), and what the clicker reads. */
interface Decided {
  next: AlertGroup | null;
  outcome: string;
  ok: boolean;
  summary: RichText;
}

/**
 * A click on a group's message, decided under the group's lock against its current state (so it
 * never reopens a group that resolved meanwhile, nor touches a newer firing of the same group),
 * audited with its outcome, and shown on the message.
 */
function groupClickHandler(
  deps: AckDeps,
  id: string,
  auditKind: string,
  decide: (group: AlertGroup, epoch: number, userId: string, at: number) => Decided,
): InteractionHandler {
  const now = deps.now ?? Date.now;
  return {
    id,
    access: ALERT_MESSAGE_ACCESS,
    handle: (interaction: Interaction) =>
      withClickedGroup(deps, interaction, async ({ client, group, epoch, invoker, audit }) => {
        const at = now();
        const decided = decide(group, epoch, invoker.userId, at);
        // The message first: the audit append takes the chain lock, held until commit, which must
        // never wait on the outbox (Redis), or every replica's audit writes wait with it.
        if (decided.next) await saveGroup(client, await deps.processor.sendIntents(client, decided.next, [{ kind: 'update' }], at));
        await audit(auditKind, decided.outcome);
        return { reply: { title: 'Alert', status: decided.ok ? 'ok' : 'info', summary: decided.summary } };
      }),
  };
}

const RESOLVED = 'This alert group has already resolved; there is nothing to change.';
const OTHER_EPOCH = "This message is about an earlier firing of the group; use its newest message instead.";

/**
 * Acknowledge: records who (shown as a mention) and when (MTTA), updates the message, stops
 * escalation. Unacknowledge: takes it back (a hand-over, a mistaken click) and escalation starts
 * over from that moment.
 */
export function ackHandlers(deps: AckDeps): InteractionHandler[] {
  const ack = groupClickHandler(deps, ACK_HANDLER, 'alert.ack', (group, epoch, userId, at) => {
    const outcome = applyAck(group, epoch, userId, at);
    switch (outcome.kind) {
      case 'acked':
        return { next: outcome.next, outcome: outcome.kind, ok: true, summary: `Acknowledged ${duration(at - group.firedAt)} after it fired. Escalation is stopped.` };
      case 'already_acked':
        return { next: null, outcome: outcome.kind, ok: false, summary: ['Already acknowledged by ', { user: outcome.by }, '.'] };
      case 'resolved':
        return { next: null, outcome: outcome.kind, ok: false, summary: RESOLVED };
      default:
        return { next: null, outcome: outcome.kind, ok: false, summary: OTHER_EPOCH };
    }
  });
  const unack = groupClickHandler(deps, UNACK_HANDLER, 'alert.unack', (group, epoch, _userId, at) => {
    const outcome = applyUnack(group, epoch, at);
    switch (outcome.kind) {
      case 'unacked':
        return { next: outcome.next, outcome: outcome.kind, ok: true, summary: ['Acknowledgement by ', { user: outcome.was }, ' taken back: the group needs someone again, and escalation starts over.'] };
      case 'not_acked':
        return { next: null, outcome: outcome.kind, ok: false, summary: 'Nobody has acknowledged this group.' };
      case 'resolved':
        return { next: null, outcome: outcome.kind, ok: false, summary: RESOLVED };
      default:
        return { next: null, outcome: outcome.kind, ok: false, summary: OTHER_EPOCH };
    }
  });
  return [ack, unack];
}
