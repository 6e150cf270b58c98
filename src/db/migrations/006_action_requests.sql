-- Every request to run an approved action. Its state moves only forward, each move one guarded
-- UPDATE (… WHERE state = <expected> …), so two clicks, two replicas or a Slack retry can never
-- both win: requested → approved | denied | expired; approved → running → succeeded | failed |
-- interrupted (the worker died mid-run; never re-run by itself).
CREATE TABLE action_requests (
  id                 text        PRIMARY KEY,
  action             text        NOT NULL,
  -- Validated against the action's parameter schema before the row exists.
  params             jsonb       NOT NULL,
  -- What will run, as shown to approvers (argv, URL or built-in with its parameters).
  preview            text        NOT NULL,
  risk               text        NOT NULL CHECK (risk IN ('low', 'high')),
  state              text        NOT NULL CHECK (state IN ('requested', 'approved', 'denied', 'expired', 'running', 'succeeded', 'failed', 'interrupted')),
  reason             text,
  requested_by       text        NOT NULL,
  requested_by_name  text,
  channel            text,
  approvals_needed   integer     NOT NULL CHECK (approvals_needed >= 0),
  -- [{ "userId", "name", "at" }]: distinct approvers so far.
  approvals          jsonb       NOT NULL DEFAULT '[]',
  decided_by         text,
  decided_at         timestamptz,
  expires_at         timestamptz NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  started_at         timestamptz,
  -- Refreshed by the worker while it runs: a stale one means the worker died (interrupted).
  heartbeat_at       timestamptz,
  finished_at        timestamptz,
  summary            text,
  output             text,
  -- Outbox key of the approval message (null while no Slack outbox could take it).
  message_key        text,
  version            integer     NOT NULL DEFAULT 1
);

CREATE INDEX action_requests_open_idx ON action_requests (state, expires_at) WHERE state IN ('requested', 'approved', 'running');
CREATE INDEX action_requests_created_idx ON action_requests (created_at DESC);
