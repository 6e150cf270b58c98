import type { ActionRequest } from './request.ts';

/** Who may approve an action, and how. */
export interface ApprovalPolicy {
  users: readonly string[];
  groups: readonly string[];
  /** Distinct approvers needed (2 for high-risk actions that want four eyes). */
  approvals: number;
  /** The requester may approve their own request (never by default). */
  allowSelfApproval: boolean;
}

export type Refusal =
  | { kind: 'not_pending'; state: ActionRequest['state'] }
  | { kind: 'expired' }
  | { kind: 'own_request' }
  | { kind: 'not_approver' }
  | { kind: 'already_approved' };

/**
 * Why `userId` may not approve `req` now, or null when they may. Checked at click time against the
 * request as stored; the UPDATE that records the approval repeats every condition that can change
 * (state, expiry, who approved), so a check that passes here can still lose the race and is then
 * answered from the request's new state.
 */
export function refuseApproval(req: ActionRequest, userId: string, isApprover: boolean, policy: ApprovalPolicy, now: number): Refusal | null {
  // Expired is expired, whether or not the sweep has marked it yet.
  if (req.state === 'expired' || (req.state === 'requested' && now >= req.expiresAt)) return { kind: 'expired' };
  if (req.state !== 'requested') return { kind: 'not_pending', state: req.state };
  if (!isApprover) return { kind: 'not_approver' };
  if (userId === req.requestedBy && !policy.allowSelfApproval) return { kind: 'own_request' };
  if (req.approvals.some((a) => a.userId === userId)) return { kind: 'already_approved' };
  return null;
}

/** Denying needs the same standing as approving, except that requesters may withdraw their own. */
export function refuseDenial(req: ActionRequest, userId: string, isApprover: boolean, now: number): Refusal | null {
  if (req.state === 'expired' || (req.state === 'requested' && now >= req.expiresAt)) return { kind: 'expired' };
  if (req.state !== 'requested') return { kind: 'not_pending', state: req.state };
  if (!isApprover && userId !== req.requestedBy) return { kind: 'not_approver' };
  return null;
}

/** What the person who clicked is told. */
export function explainRefusal(r: Refusal, req: ActionRequest): string {
  switch (r.kind) {
    case 'not_pending':
      return `This request is ${r.state} already${req.decidedBy ? ` (by ${req.decidedBy})` : ''}; nothing changed.`;
    case 'expired':
      return 'This request has expired; nothing will run. Ask again with /run if it is still needed.';
    case 'own_request':
      return 'You asked for this action, so someone else has to approve it.';
    case 'not_approver':
      return `You are not one of the approvers of ${req.action}. Your click was recorded in the audit trail.`;
    case 'already_approved':
      return `You approved this already; it needs ${req.approvalsNeeded} different approvers.`;
  }
}
