import type { ChannelMessage } from '../core/channel-message.ts';
import type { Button, Reply, Status } from '../core/reply.ts';
import type { ActionRequest, RequestState } from './request.ts';

export const APPROVE_HANDLER = 'actions.approve';
export const DENY_HANDLER = 'actions.deny';
/** A button on another reply (e.g. /queue's "Retry failed") that requests an action, as /run would. */
export const REQUEST_HANDLER = 'actions.request';
/** The form asking for a reason before such a request is made. */
export const REQUEST_FORM = 'actions.request-form';

const HEAD: Record<RequestState, { title: string; status: Status }> = {
  requested: { title: '🔐 Approval needed', status: 'warn' },
  approved: { title: '👍 Approved, starting', status: 'info' },
  denied: { title: '⛔ Denied', status: 'info' },
  expired: { title: '⌛ Expired, not run', status: 'info' },
  running: { title: '▶️ Running', status: 'info' },
  succeeded: { title: '✅ Succeeded', status: 'ok' },
  failed: { title: '❌ Failed', status: 'fail' },
  interrupted: { title: '⚠️ Interrupted', status: 'fail' },
};

const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const who = (id: string, name: string | null) => (name ? `${name} (${id})` : id);

/**
 * The approval message: who asks, exactly what will run, risk, expiry, and, while it is pending,
 * Approve and Deny with confirm dialogs. Every later state replaces it in place (no buttons left).
 */
export function approvalReply(req: ActionRequest, title: string): Reply {
  const head = HEAD[req.state];
  const fields = [
    { label: 'Action', value: `${title} (${req.action})` },
    { label: 'Requested by', value: who(req.requestedBy, req.requestedByName) },
    { label: 'Risk', value: req.risk === 'high' ? 'HIGH' : 'low' },
    { label: 'Approvals', value: `${req.approvals.length} of ${req.approvalsNeeded}${req.approvals.length ? `: ${req.approvals.map((a) => a.name ?? a.userId).join(', ')}` : ''}` },
    ...(req.state === 'requested' ? [{ label: 'Expires', value: iso(req.expiresAt) }] : []),
    ...(req.reason ? [{ label: 'Reason', value: req.reason }] : []),
    ...(req.decidedBy && req.state !== 'requested' ? [{ label: req.state === 'denied' ? 'Denied by' : 'Decided by', value: req.decidedBy }] : []),
  ];
  const notes = [
    req.state === 'requested' ? `Request ${req.id}; from a terminal: npx vigil approve ${req.id} (or deny).` : `Request ${req.id}.`,
    ...(req.summary ? [req.summary] : []),
  ];
  const buttons: Button[] =
    req.state === 'requested'
      ? [
          {
            handler: APPROVE_HANDLER,
            label: 'Approve',
            value: req.id,
            style: 'primary',
            confirm: { title: `Approve ${req.action}?`, text: `This runs: ${req.preview}`, confirm: 'Approve and run', deny: 'Cancel' },
          },
          {
            handler: DENY_HANDLER,
            label: 'Deny',
            value: req.id,
            style: 'danger',
            confirm: { title: `Deny ${req.action}?`, text: 'Nothing will run; the requester is told.', confirm: 'Deny', deny: 'Cancel' },
          },
        ]
      : [];
  return {
    title: `${head.title}: ${title}`,
    status: head.status,
    summary: `${req.requestedByName ?? req.requestedBy} asks to run ${req.action}${req.risk === 'high' ? ' (high risk)' : ''}.`,
    sections: [{ heading: 'Will run', text: req.preview, fields }],
    notes,
    buttons,
    visibility: 'channel',
  };
}

// Output shown in Slack: the end of it matters most when something failed.
const MAX_OUTPUT = 2500;

/** The thread reply with the result: summary and the (already redacted) output's tail. */
export function resultText(req: ActionRequest): string {
  const took = req.startedAt && req.finishedAt ? ` in ${((req.finishedAt - req.startedAt) / 1000).toFixed(1)} s` : '';
  const head = `${HEAD[req.state].title}${took}: ${req.summary ?? ''}`.trim();
  const output = req.output ? (req.output.length > MAX_OUTPUT ? `…${req.output.slice(-MAX_OUTPUT)}` : req.output) : '';
  return output ? `${head}\n${output}` : head;
}

/** The result as a thread reply: heading, then the output as it is (a code block in Slack). */
export function resultThread(req: ActionRequest): ChannelMessage {
  const [head = '', ...rest] = resultText(req).split('\n');
  const output = rest.join('\n');
  return output ? { text: head, code: output } : { text: head };
}
