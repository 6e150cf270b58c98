import { z } from 'zod';
import { defineCommand, type Command, type Invoker } from '../src/core/command.ts';
import { requireDep } from '../src/core/deps.ts';
import type { Reply } from '../src/core/reply.ts';

/** A request waiting for approval, as /approve lists it. */
export interface PendingRequest {
  id: string;
  action: string;
  preview: string;
  requestedBy: string;
  approvals: string;
  expiresAt: number;
}

/** What /approve and /deny decide through: the same service as the Approve and Deny buttons. */
export interface DecideCommandDeps {
  actions: {
    decide(decision: 'approve' | 'deny', requestId: string, invoker: Invoker): Promise<Reply>;
    pending(): Promise<PendingRequest[]>;
  } | null;
  missing: string | undefined;
  now: () => number;
}

const requestId = z.string().regex(/^req-[A-Za-z0-9]{12}$/, 'a request id looks like req-… (the approval message and /approve show it)');

/**
 * `/approve <request>` and `/deny <request>`: the Approve and Deny buttons for a terminal (or a
 * Slack user without the approval message at hand), under the same rules: the person must be an
 * approver, not the requester (unless the action allows it), before the request expires. Without
 * a request id, the requests waiting for a decision.
 */
export function decisionCommand(decision: 'approve' | 'deny'): Command<unknown, DecideCommandDeps> {
  return defineCommand<{ request?: string }, DecideCommandDeps>({
    name: decision,
    summary: decision === 'approve' ? 'Approve a pending action request (as the button does); alone, list pending requests' : 'Deny a pending action request (as the button does); alone, list pending requests',
    usage: '[request-id]',
    options: {},
    args: z
      .object({ positionals: z.array(requestId).max(1, 'takes one request id') })
      .transform(({ positionals }) => (positionals[0] !== undefined ? { request: positionals[0] } : {})),
    async run(args, { deps, invoker }): Promise<Reply> {
      const actions = requireDep(deps.actions, 'Approved actions', deps.missing);
      if (args.request === undefined) return pendingReply(await actions.pending(), decision, deps.now());
      return actions.decide(decision, args.request, invoker);
    },
  });
}

export default decisionCommand('approve');

function pendingReply(pending: PendingRequest[], decision: 'approve' | 'deny', now: number): Reply {
  if (pending.length === 0) return { title: 'Pending requests', status: 'info', summary: 'No action request is waiting for a decision.', data: [] };
  return {
    title: `Pending requests (${pending.length})`,
    status: 'info',
    summary: `Decide one with /${decision} <request-id>.`,
    sections: [
      {
        heading: 'Waiting',
        table: {
          columns: ['request', 'action', 'asked by', 'approvals', 'expires in', 'will run'],
          rows: pending.map((p) => [p.id, p.action, p.requestedBy, p.approvals, `${Math.max(0, Math.round((p.expiresAt - now) / 60_000))} min`, p.preview]),
        },
      },
    ],
    data: pending,
  };
}
