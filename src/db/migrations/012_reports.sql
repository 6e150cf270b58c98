-- Scheduled reports (issue 22): one row per report posted, keyed by its tick, so a second replica
-- (or a retried tick) finds the row and posts nothing; the figures a later report compares with
-- (queue counts, the slow statements it showed) ride along.
CREATE TABLE report_runs (
  id          bigserial   PRIMARY KEY,
  name        text        NOT NULL,
  -- The tick's scheduled second: the same on every replica.
  tick_at     timestamptz NOT NULL,
  window_ms   bigint      NOT NULL CHECK (window_ms > 0),
  channel     text        NOT NULL,
  -- Outbox key of the report's message (`report:<name>:<tick>`).
  message_key text        NOT NULL,
  -- { queues: { name: { waiting, failed } }, statements: [queryid, …] } at the time of the report.
  baseline    jsonb       NOT NULL DEFAULT '{}',
  -- The report as posted, without its checklist: a click re-renders the message from it.
  reply       jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- Checklists: when open items are due, and when they were posted again with the mention (once).
  deadline_at timestamptz,
  reminded_at timestamptz,
  UNIQUE (name, tick_at)
);

CREATE INDEX report_runs_latest_idx ON report_runs (name, tick_at DESC);
CREATE INDEX report_runs_due_idx ON report_runs (deadline_at) WHERE deadline_at IS NOT NULL AND reminded_at IS NULL;

-- One row per checklist item of a posted report. Checked once: the click's UPDATE is guarded by
-- `checked_at IS NULL`, so a double click records (and audits) one check.
CREATE TABLE report_checklist_items (
  run_id     bigint      NOT NULL REFERENCES report_runs (id) ON DELETE CASCADE,
  position   integer     NOT NULL CHECK (position >= 0),
  label      text        NOT NULL,
  checked_by text,
  checked_at timestamptz,
  PRIMARY KEY (run_id, position)
);
