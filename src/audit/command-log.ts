import type { CommandRun } from '../core/dispatch.ts';
import type { InteractionRun } from '../core/interactions.ts';
import type { AuditEvent } from './chain.ts';

/** The arguments as typed, cut so one pasted wall of text cannot bloat the trail. */
const MAX_ARGS = 2000;

/**
 * A command run as an audit event of kind `command`: who, where, which command, how it ended, and
 * in `details` the arguments, front door, workspace, duration and the (user-safe) error.
 */
export function commandRunEvent(run: CommandRun): AuditEvent {
  const i = run.invoker;
  return {
    actorId: i.userId,
    ...(i.userName !== undefined ? { actorName: i.userName } : {}),
    ...(i.channelId !== undefined ? { channel: i.channelId } : {}),
    kind: 'command',
    subject: run.command,
    outcome: run.outcome,
    details: {
      args: run.text.slice(0, MAX_ARGS),
      surface: i.surface,
      ...(i.teamId !== undefined ? { team: i.teamId } : {}),
      durationMs: Math.round(run.durationMs * 1000) / 1000,
      ...(run.error !== undefined ? { error: run.error } : {}),
      ...(run.refusedBy !== undefined ? { rule: run.refusedBy } : {}),
    },
  };
}

/** A click or form the access policy refused, as an audit event of kind `click`, outcome `refused`. */
export function clickRefusedEvent(run: InteractionRun): AuditEvent {
  const i = run.invoker;
  return {
    actorId: i.userId,
    ...(i.userName !== undefined ? { actorName: i.userName } : {}),
    ...(i.channelId !== undefined ? { channel: i.channelId } : {}),
    kind: 'click',
    subject: run.handler,
    outcome: 'refused',
    details: { surface: i.surface, kind: run.kind, ...(run.refusal ? { rule: run.refusal.rule, message: run.refusal.message } : {}) },
  };
}
