-- The audit trail: every command run, action request, decision, refused click, execution start and
-- end, silence and acknowledgement, as one append-only, hash-chained log (src/audit/chain.ts).
-- command_runs (001) keeps the runs written before this table existed; new runs come here.
--
-- Rows are appended only by appendAuditEvents, under a transaction-level advisory lock: it reads the
-- last row, gives the new rows the next ids (gapless, so a deleted row shows as a gap) and times
-- (never earlier than the last row's), and computes each row's hash over all its columns and the
-- previous row's hash. `npx vigil audit verify` recomputes the chain.
CREATE TABLE audit_events (
  -- Assigned under the chain's lock as last id + 1, not by a sequence: a sequence leaves gaps
  -- when a transaction rolls back, and gaps must mean tampering.
  id          bigint      PRIMARY KEY CHECK (id > 0),
  -- Milliseconds only, so the value hashed (an ISO string from JavaScript) is exactly what is stored.
  at          timestamptz NOT NULL CHECK (at = date_trunc('milliseconds', at)),
  actor_id    text        NOT NULL,
  actor_name  text,
  channel     text,
  -- 'command', 'action.request', 'action.approve', 'action.start', 'alert.ack', …
  kind        text        NOT NULL,
  -- What it was about: a command name, an action id, an alert group.
  subject     text        NOT NULL,
  request_id  text,
  outcome     text        NOT NULL,
  -- Redacted by the caller: never a secret.
  details     jsonb       NOT NULL DEFAULT '{}',
  -- The previous row's hash (64 zeros for the first row); unique, so the chain cannot fork.
  prev_hash   text        NOT NULL UNIQUE CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash        text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
);

-- /audit: newest first, filtered by time, actor, kind (or kind prefix) or subject.
CREATE INDEX audit_events_at_idx ON audit_events (at);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, id);
CREATE INDEX audit_events_kind_idx ON audit_events (kind text_pattern_ops, id);
CREATE INDEX audit_events_subject_idx ON audit_events (subject, id);
-- Everything that happened to one approval request.
CREATE INDEX audit_events_request_idx ON audit_events (request_id, id) WHERE request_id IS NOT NULL;

CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'vigil.audit_events is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Audit events are never changed or removed; append a new event instead.';
END;
$$;

CREATE TRIGGER audit_events_append_only
  BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();

CREATE TRIGGER audit_events_no_truncate
  BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
