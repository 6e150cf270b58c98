import { STATE_SCHEMA } from '../db/migrate.ts';
import type { Queryable } from '../db/queryable.ts';
import { requestFromRow, type ActionRequest } from './request.ts';

const T = `${STATE_SCHEMA}.action_requests`;

/**
 * Every change of a request is one guarded statement: it names the state it expects (and, for an
 * approval, every other condition that can change meanwhile) and returns the row only if it won.
 * Null means someone else got there first: the caller answers from the row as it is now.
 */
export interface NewRequest {
  id: string;
  action: string;
  params: Record<string, string | number>;
  preview: string;
  risk: 'low' | 'high';
  reason: string | null;
  requestedBy: string;
  requestedByName: string | null;
  channel: string | null;
  approvalsNeeded: number;
  expiresInMs: number;
  /** Who decided a request needing no approval (default: the policy). */
  decidedBy?: string;
}

const one = (rows: unknown[]): ActionRequest | null => (rows.length > 0 ? requestFromRow(rows[0]) : null);

export async function insertRequest(db: Queryable, r: NewRequest): Promise<ActionRequest> {
  const { rows } = await db.query(
    // An action whose policy needs no approval is approved as it is requested.
    `INSERT INTO ${T} (id, action, params, preview, risk, state, reason, requested_by, requested_by_name, channel, approvals_needed, expires_at, decided_by, decided_at)
     VALUES ($1, $2, $3::jsonb, $4, $5, CASE WHEN $10::int = 0 THEN 'approved' ELSE 'requested' END, $6, $7, $8, $9, $10, now() + make_interval(secs => $11),
             CASE WHEN $10::int = 0 THEN $12 END, CASE WHEN $10::int = 0 THEN now() END)
     RETURNING *`,
    [
      r.id,
      r.action,
      JSON.stringify(r.params),
      r.preview,
      r.risk,
      r.reason,
      r.requestedBy,
      r.requestedByName,
      r.channel,
      r.approvalsNeeded,
      r.expiresInMs / 1000,
      r.decidedBy ?? 'policy (no approval needed)',
    ],
  );
  return requestFromRow(rows[0]);
}

export async function loadRequest(db: Queryable, id: string): Promise<ActionRequest | null> {
  return one((await db.query(`SELECT * FROM ${T} WHERE id = $1`, [id])).rows);
}

/** One approval; the last one needed moves the request to `approved`. */
export async function recordApproval(db: Queryable, id: string, userId: string, name: string | null, allowSelf: boolean): Promise<ActionRequest | null> {
  const { rows } = await db.query(
    `UPDATE ${T}
        SET approvals = approvals || jsonb_build_array(jsonb_build_object('userId', $2::text, 'name', $3::text, 'at', now())),
            state = CASE WHEN jsonb_array_length(approvals) + 1 >= approvals_needed THEN 'approved' ELSE 'requested' END,
            decided_by = CASE WHEN jsonb_array_length(approvals) + 1 >= approvals_needed THEN coalesce($3, $2) ELSE decided_by END,
            decided_at = CASE WHEN jsonb_array_length(approvals) + 1 >= approvals_needed THEN now() ELSE decided_at END,
            version = version + 1
      WHERE id = $1 AND state = 'requested' AND expires_at > now()
        AND ($4::boolean OR requested_by <> $2)
        AND NOT approvals @> jsonb_build_array(jsonb_build_object('userId', $2::text))
      RETURNING *`,
    [id, userId, name, allowSelf],
  );
  return one(rows);
}

export async function recordDenial(db: Queryable, id: string, userId: string, name: string | null): Promise<ActionRequest | null> {
  const { rows } = await db.query(
    `UPDATE ${T} SET state = 'denied', decided_by = coalesce($3, $2), decided_at = now(), version = version + 1
      WHERE id = $1 AND state = 'requested' AND expires_at > now() RETURNING *`,
    [id, userId, name],
  );
  return one(rows);
}

/** Requests waiting for a decision, oldest first (expired ones the sweep has not marked yet left out). */
export async function pendingRequests(db: Queryable, limit: number): Promise<ActionRequest[]> {
  const { rows } = await db.query(`SELECT * FROM ${T} WHERE state = 'requested' AND expires_at > now() ORDER BY created_at LIMIT $1`, [limit]);
  return rows.map(requestFromRow);
}

/** Requests nobody decided in time. */
export async function expireOverdue(db: Queryable): Promise<ActionRequest[]> {
  const { rows } = await db.query(`UPDATE ${T} SET state = 'expired', version = version + 1 WHERE state = 'requested' AND expires_at <= now() RETURNING *`);
  return rows.map(requestFromRow);
}

/** approved → running, once: the worker that wins runs it; any other run of the job does nothing. */
export async function startRun(db: Queryable, id: string): Promise<ActionRequest | null> {
  const { rows } = await db.query(
    `UPDATE ${T} SET state = 'running', started_at = now(), heartbeat_at = now(), version = version + 1 WHERE id = $1 AND state = 'approved' RETURNING *`,
    [id],
  );
  return one(rows);
}

export async function heartbeat(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE ${T} SET heartbeat_at = now() WHERE id = $1 AND state = 'running'`, [id]);
}

export async function finishRun(db: Queryable, id: string, ok: boolean, summary: string, output: string): Promise<ActionRequest | null> {
  const { rows } = await db.query(
    `UPDATE ${T} SET state = $2, finished_at = now(), summary = $3, output = $4, version = version + 1 WHERE id = $1 AND state = 'running' RETURNING *`,
    [id, ok ? 'succeeded' : 'failed', summary, output],
  );
  return one(rows);
}

/** Runs whose worker stopped sending heartbeats (killed mid-run): reported, never re-run. */
export async function interruptStale(db: Queryable, staleMs: number): Promise<ActionRequest[]> {
  const { rows } = await db.query(
    `UPDATE ${T} SET state = 'interrupted', finished_at = now(), version = version + 1,
            summary = 'The worker running it stopped (crash or kill) before it finished; it was not run again.'
      WHERE state = 'running' AND heartbeat_at < now() - make_interval(secs => $1) RETURNING *`,
    [staleMs / 1000],
  );
  return rows.map(requestFromRow);
}

/** Approved requests whose job may not exist (Redis was away at approval): enqueued again, idempotently. */
export async function approvedWaiting(db: Queryable, olderThanMs: number): Promise<string[]> {
  const { rows } = await db.query(`SELECT id FROM ${T} WHERE state = 'approved' AND decided_at < now() - make_interval(secs => $1) LIMIT 100`, [olderThanMs / 1000]);
  return (rows as Array<{ id: string }>).map((r) => r.id);
}

export async function setMessageKey(db: Queryable, id: string, key: string): Promise<void> {
  await db.query(`UPDATE ${T} SET message_key = $2 WHERE id = $1 AND message_key IS NULL`, [id, key]);
}
