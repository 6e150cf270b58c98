import type { AuditChain } from '../audit/chain.ts';
import type { Invoker } from '../core/command.ts';
import { AppError } from '../core/errors.ts';
import type { Interaction } from '../core/interactions.ts';
import type { Queryable } from '../db/queryable.ts';
import type { StateStore } from '../db/state.ts';
import { inTransaction } from '../db/transaction.ts';
import type { AlertGroup } from './group.ts';
import { loadGroup, lockGroup } from './store.ts';

/** A button on a group's message names the group and the firing (epoch) it was shown for. */
const VALUE = /^([0-9a-f]{24}):(\d{1,9})$/;

/** What a click's work gets: the group as it is now (locked), the epoch the button was for, who clicked. */
export interface ClickedGroup {
  client: Queryable;
  group: AlertGroup;
  epoch: number;
  invoker: Invoker;
  /** Append the click's audit event (last: the chain lock is held until commit). */
  audit(kind: string, outcome: string): Promise<void>;
}

/**
 * Run a click on a group's message in one transaction under the group's lock, against its current
 * state: a click racing an auto-resolve or a newer firing sees what is true now.
 */
export async function withClickedGroup<T>(
  { state, audit: chain }: { state: StateStore; audit: AuditChain },
  interaction: Interaction,
  work: (c: ClickedGroup) => Promise<T>,
): Promise<T> {
  const match = interaction.kind === 'button' ? VALUE.exec(interaction.value) : null;
  if (!match) throw new AppError('stale', 'This button does not name an alert group.');
  const [, groupId = '', epochText = '0'] = match;
  const ready = await state.ready();
  if (ready.kind !== 'ready') throw new AppError('dependency_unavailable', `Cannot record this now: ${ready.why}.`);
  const { invoker } = interaction;
  const epoch = Number(epochText);
  return inTransaction(ready.pool, async (client) => {
    await lockGroup(client, groupId);
    const group = await loadGroup(client, groupId);
    if (!group) throw new AppError('stale', 'Vigil no longer knows this alert group.');
    const audit = (kind: string, outcome: string) =>
      chain.append(client, [
        {
          actorId: invoker.userId,
          ...(invoker.userName ? { actorName: invoker.userName } : {}),
          ...(invoker.channelId ? { channel: invoker.channelId } : {}),
          kind,
          subject: groupId,
          outcome,
          details: { epoch, severity: group.severity, alertname: group.view.commonLabels.alertname ?? null },
        },
      ]);
    return work({ client, group, epoch, invoker, audit });
  });
}
