import { describe, expect, it } from 'vitest';
import { explainRefusal, refuseApproval, refuseDenial, type ApprovalPolicy } from '../../../src/actions/policy.ts';
import type { ActionRequest } from '../../../src/actions/request.ts';

const NOW = Date.parse('2026-11-26T12:00:00Z');
const policy: ApprovalPolicy = { users: ['U0BOSS', 'U0ALICE'], groups: [], approvals: 1, allowSelfApproval: false };

function request(over: Partial<ActionRequest> = {}): ActionRequest {
  return {
    id: 'req-abcdefabcdef',
    action: 'restart-api',
    params: { service: 'api' },
    preview: 'systemctl restart api',
    risk: 'high',
    state: 'requested',
    reason: null,
    requestedBy: 'U0ALICE',
    requestedByName: 'alice',
    channel: 'C0OPS',
    approvalsNeeded: 1,
    approvals: [],
    decidedBy: null,
    decidedAt: null,
    expiresAt: NOW + 60_000,
    createdAt: NOW - 60_000,
    startedAt: null,
    finishedAt: null,
    summary: null,
    output: null,
    messageKey: null,
    version: 1,
    ...over,
  };
}

describe('approval policy at click time', () => {
  it('lets an approver approve a pending, unexpired request of someone else', () => {
    expect(refuseApproval(request(), 'U0BOSS', true, policy, NOW)).toBeNull();
  });

  it('refuses the requester, outsiders, expired and decided requests, and a second approval by the same person', () => {
    expect(refuseApproval(request(), 'U0ALICE', true, policy, NOW)).toEqual({ kind: 'own_request' });
    expect(refuseApproval(request(), 'U0MALLORY', false, policy, NOW)).toEqual({ kind: 'not_approver' });
    expect(refuseApproval(request({ expiresAt: NOW }), 'U0BOSS', true, policy, NOW)).toEqual({ kind: 'expired' });
    expect(refuseApproval(request({ state: 'expired' }), 'U0BOSS', true, policy, NOW)).toEqual({ kind: 'expired' });
    expect(refuseApproval(request({ state: 'denied' }), 'U0BOSS', true, policy, NOW)).toEqual({ kind: 'not_pending', state: 'denied' });
    const once = request({ approvalsNeeded: 2, approvals: [{ userId: 'U0BOSS', name: 'boss', at: '' }] });
    expect(refuseApproval(once, 'U0BOSS', true, { ...policy, approvals: 2 }, NOW)).toEqual({ kind: 'already_approved' });
  });

  it('allows self-approval only when the action says so', () => {
    expect(refuseApproval(request(), 'U0ALICE', true, { ...policy, allowSelfApproval: true }, NOW)).toBeNull();
  });

  it('lets the requester withdraw (deny) their own request, but not an outsider', () => {
    expect(refuseDenial(request(), 'U0ALICE', false, NOW)).toBeNull();
    expect(refuseDenial(request(), 'U0MALLORY', false, NOW)).toEqual({ kind: 'not_approver' });
  });

  it('explains each refusal in words', () => {
    expect(explainRefusal({ kind: 'own_request' }, request())).toContain('someone else');
    expect(explainRefusal({ kind: 'not_approver' }, request())).toContain('audit');
    expect(explainRefusal({ kind: 'not_pending', state: 'approved' }, request({ decidedBy: 'boss' }))).toContain('approved already (by boss)');
  });
});
