import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export type RequestState = 'requested' | 'approved' | 'denied' | 'expired' | 'running' | 'succeeded' | 'failed' | 'interrupted';
export const OPEN_STATES: readonly RequestState[] = ['requested', 'approved', 'running'];

export interface Approval {
  userId: string;
  name: string | null;
  at: string;
}

/** One request to run an action (a row of `vigil.action_requests`); times in ms. */
export interface ActionRequest {
  id: string;
  action: string;
  params: Record<string, string | number>;
  preview: string;
  risk: 'low' | 'high';
  state: RequestState;
  reason: string | null;
  requestedBy: string;
  requestedByName: string | null;
  channel: string | null;
  approvalsNeeded: number;
  approvals: Approval[];
  decidedBy: string | null;
  decidedAt: number | null;
  expiresAt: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  summary: string | null;
  output: string | null;
  messageKey: string | null;
  version: number;
}

/** Unguessable and free of `:` (it is part of BullMQ job ids and Slack button values). */
export function newRequestId(): string {
  return `req-${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;
}
export const REQUEST_ID = /^req-[A-Za-z0-9]{12}$/;

const ms = z.union([z.date(), z.null()]).transform((d) => (d === null ? null : d.getTime()));

const row = z.object({
  id: z.string(),
  action: z.string(),
  params: z.record(z.string(), z.union([z.string(), z.number()])),
  preview: z.string(),
  risk: z.enum(['low', 'high']),
  state: z.enum(['requested', 'approved', 'denied', 'expired', 'running', 'succeeded', 'failed', 'interrupted']),
  reason: z.string().nullable(),
  requested_by: z.string(),
  requested_by_name: z.string().nullable(),
  channel: z.string().nullable(),
  approvals_needed: z.number().int(),
  approvals: z.array(z.object({ userId: z.string(), name: z.string().nullable(), at: z.string() })),
  decided_by: z.string().nullable(),
  decided_at: ms,
  expires_at: z.date().transform((d) => d.getTime()),
  created_at: z.date().transform((d) => d.getTime()),
  started_at: ms,
  finished_at: ms,
  summary: z.string().nullable(),
  output: z.string().nullable(),
  message_key: z.string().nullable(),
  version: z.number().int(),
});

/** A row, validated: it may have been written by another version of Vigil. */
export function requestFromRow(r: unknown): ActionRequest {
  const v = row.parse(r);
  return {
    id: v.id,
    action: v.action,
    params: v.params,
    preview: v.preview,
    risk: v.risk,
    state: v.state,
    reason: v.reason,
    requestedBy: v.requested_by,
    requestedByName: v.requested_by_name,
    channel: v.channel,
    approvalsNeeded: v.approvals_needed,
    approvals: v.approvals,
    decidedBy: v.decided_by,
    decidedAt: v.decided_at,
    expiresAt: v.expires_at,
    createdAt: v.created_at,
    startedAt: v.started_at,
    finishedAt: v.finished_at,
    summary: v.summary,
    output: v.output,
    messageKey: v.message_key,
    version: v.version,
  };
}
