import type { Redis } from 'ioredis';
import type { InteractionHandler } from '../core/interactions.ts';
import type { AuditChain } from '../audit/chain.ts';
import type { StateStore } from '../db/state.ts';
import type { AlertGroup } from './group.ts';
import { ALERT_MESSAGE_ACCESS, RESOLVE_HANDLER, RESOLVED_BY } from './message.ts';
import type { Notification } from './notification.ts';
import { ruleNameOf } from './rules/rule-group-key.ts';
import { forgetRule } from './rules/rule-state-store.ts';
import { storeNotification } from './store.ts';
import { withClickedGroup } from './group-click.ts';

export interface ResolveDeps {
  state: StateStore;
  audit: AuditChain;
  /** The rules' state lives here: a resolved rule starts afresh at its next evaluation. */
  redis: Redis;
  keyPrefix: string;
  /** Something was stored: apply it now. */
  stored: () => void;
  now?: () => number;
}

/**
 * Resolve, on a message of Vigil's own rule alert: a person ends an alert that cannot clear itself
 * (a target gone for good, a condition accepted). Stored as the rule's resolved notification,
 * applied like any other, and audited; the rule then starts afresh, so a condition that still
 * holds fires again after its `for`. Alertmanager's groups never offer it: Alertmanager decides.
 */
export function resolveHandler(deps: ResolveDeps): InteractionHandler {
  const now = deps.now ?? Date.now;
  return {
    id: RESOLVE_HANDLER,
    access: ALERT_MESSAGE_ACCESS,
    async handle(interaction) {
      const outcome = await withClickedGroup(deps, interaction, async ({ client, group, epoch, invoker, audit }) => {
        const rule = ruleNameOf(group.groupKey);
        const verdict = group.epoch !== epoch ? 'other_epoch' : group.status === 'resolved' ? 'resolved' : rule === null ? 'not_a_rule' : 'resolving';
        if (verdict === 'resolving') await storeNotification(client, resolvedByHand(group, invoker.userId, now()));
        await audit('alert.resolve', verdict);
        return { verdict, rule };
      });
      let afresh = true;
      if (outcome.verdict === 'resolving' && outcome.rule !== null) {
        deps.stored();
        afresh = await forgetRule(deps.redis, deps.keyPrefix, outcome.rule).then(
          () => true,
          () => false,
        );
      }
      const summary = {
        resolving: afresh
          ? `Resolved by hand. If ${outcome.rule ?? 'the rule'}'s condition still holds, it fires again after its \`for\`.`
          : `Resolved by hand. Redis did not answer, so ${outcome.rule ?? 'the rule'} fires again only once its condition clears and holds again.`,
        resolved: 'This alert group has already resolved; there is nothing to change.',
        other_epoch: 'This message is about an earlier firing of the group; use its newest message instead.',
        not_a_rule: 'Only Vigil’s own rule alerts can be resolved by hand; Alertmanager resolves its own.',
      }[outcome.verdict];
      return { reply: { title: 'Alert', status: outcome.verdict === 'resolving' ? 'ok' : 'info', summary } };
    },
  };
}

/** The group's snapshot with every alert resolved, marked with who did it. */
function resolvedByHand(g: AlertGroup, userId: string, now: number): Notification {
  const endsAt = new Date(now).toISOString();
  return {
    source: g.source,
    receiver: g.receiver,
    groupKey: g.groupKey,
    status: 'resolved',
    groupLabels: g.view.groupLabels,
    commonLabels: g.view.commonLabels,
    commonAnnotations: { ...g.view.commonAnnotations, [RESOLVED_BY]: userId },
    externalURL: g.view.externalURL,
    truncatedAlerts: 0,
    alerts: Object.values(g.view.alerts).map((a) => (a.status === 'firing' ? { ...a, status: 'resolved' as const, endsAt } : a)),
  };
}
