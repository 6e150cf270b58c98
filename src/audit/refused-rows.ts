import { describeError } from '../core/errors.ts';
import type { AuditEvent } from './chain.ts';

export interface RefusalHooks {
  /** A row Postgres refused, about to be stored as a `rejected` stand-in. */
  rejected(refused: AuditEvent, err: unknown): void;
  /** Even the stand-in was refused: the event is lost. */
  dropped(): void;
}

/**
 * Write `events`; a data error splits the batch until the refused row is alone, then stores a
 * stand-in for it, so one bad row never costs its neighbours. Any other error is thrown (retried).
 */
export async function writeIsolating(events: AuditEvent[], write: (events: AuditEvent[]) => Promise<void>, hooks: RefusalHooks): Promise<void> {
  try {
    await write(events);
  } catch (err) {
    if (!isDataError(err)) throw err;
    if (events.length > 1) {
      const half = Math.ceil(events.length / 2);
      await writeIsolating(events.slice(0, half), write, hooks);
      await writeIsolating(events.slice(half), write, hooks);
      return;
    }
    const [refused] = events;
    if (!refused) return;
    hooks.rejected(refused, err);
    await write([rejectedStandIn(refused, err)]).catch((again: unknown) => {
      if (!isDataError(again)) throw again;
      hooks.dropped();
    });
  }
}

/** SQLSTATE classes meaning "this row's data is refused": retrying the same row will not help. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('54'));
}

/** What is kept of a refused event: who, what, that it was refused and why, with the text cut short. */
function rejectedStandIn(event: AuditEvent, err: unknown): AuditEvent {
  const cut = (text: string) => text.slice(0, 200);
  return {
    actorId: cut(event.actorId),
    kind: cut(event.kind),
    subject: cut(event.subject),
    outcome: 'rejected',
    details: { originalOutcome: cut(event.outcome), refusedBecause: cut(describeError(err)) },
    ...(event.writeKey ? { writeKey: event.writeKey } : {}),
  };
}
