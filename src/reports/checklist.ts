import type { ChannelMessage } from '../core/channel-message.ts';
import type { Button, Ref, Reply, RichText } from '../core/reply.ts';
import type { ChecklistItem, ReportRun } from './runs.ts';

/** The click handler of a checklist item's button, and the access policy's name for such a click. */
export const CHECK_HANDLER = 'reports.check';
export const CHECKLIST_ACCESS = 'reports.checklist';

const BUTTON_LABEL = 75;
const time = (ms: number) => `${new Date(ms).toISOString().slice(11, 16)} UTC`;

/** A button's value: the run and the item's position (`12:0`). */
export function checkValue(runId: number, position: number): string {
  return `${runId}:${position}`;
}

export function parseCheckValue(value: string): { runId: number; position: number } | null {
  const m = /^(\d{1,15}):(\d{1,3})$/.exec(value);
  return m ? { runId: Number(m[1]), position: Number(m[2]) } : null;
}

/** The report's Reply with its checklist: what is done (by whom, when), a button per open item. */
export function withChecklist(reply: Reply, runId: number, items: readonly ChecklistItem[]): Reply {
  if (items.length === 0) return reply;
  const open = items.filter((i) => i.checkedAt === null);
  const done = items.length - open.length;
  const lines = items.map((i) => `${i.checkedAt === null ? '☐' : '☑'} ${i.label}${i.checkedAt === null ? '' : ` (done at ${time(i.checkedAt)})`}`);
  const notes: RichText[] = items.filter((i) => i.checkedBy !== null).map((i) => [`☑ ${i.label}: done by `, { user: i.checkedBy ?? '' }, ` at ${time(i.checkedAt ?? 0)}.`]);
  return {
    ...reply,
    sections: [...(reply.sections ?? []), { heading: `Checklist: ${done} of ${items.length} done`, status: open.length === 0 ? 'ok' : 'info', text: lines.join('\n') }],
    notes: [...(reply.notes ?? []), ...notes],
    buttons: [...(reply.buttons ?? []), ...open.map((i) => checkButton(runId, i))],
  };
}

function checkButton(runId: number, item: ChecklistItem): Button {
  return { handler: CHECK_HANDLER, label: `Done: ${item.label}`.slice(0, BUTTON_LABEL), value: checkValue(runId, item.position), style: 'primary' };
}

/** A mention from the config: a user group (S…) or a person (U…/W…). */
export function mentionRef(id: string): Ref {
  return id.startsWith('S') ? { userGroup: id } : { user: id };
}

/** The checklist posted again at its deadline: the open items as buttons, the mention in front so it notifies. */
export function reminderMessage(run: ReportRun, items: readonly ChecklistItem[], mention: string | undefined): ChannelMessage {
  const open = items.filter((i) => i.checkedAt === null);
  const lead: RichText = [...(mention ? [mentionRef(mention), ' '] : []), `${open.length} checklist item(s) of the ${run.name} report are still open.`];
  return { lead, reply: reminderReply(run, items) };
}

export function reminderReply(run: ReportRun, items: readonly ChecklistItem[]): Reply {
  const base: Reply = { title: `Checklist of report ${run.name} (${new Date(run.tickAt).toISOString().slice(0, 19).replace('T', ' ')} UTC)`, status: 'warn' };
  return withChecklist(base, run.id, items);
}

/** Outbox keys of a run's reminder, and of the updates a click sends (one per item: each is ticked once). */
export const reminderKey = (run: ReportRun) => `${run.messageKey}:reminder`;
export const checkUpdateKey = (messageKey: string, position: number) => `${messageKey}:check:${position}`;
