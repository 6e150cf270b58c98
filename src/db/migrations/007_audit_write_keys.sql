-- A key the audit writer gives each event before its first attempt, so that a retry after a lost
-- answer (the link broke after COMMIT reached Postgres) can tell the batch is already stored and
-- does not append it twice. Not part of the hash: it names a write, not what happened. NULL for
-- rows written in a caller's own transaction (those commit or roll back with their change).
ALTER TABLE audit_events ADD COLUMN write_key uuid;
CREATE UNIQUE INDEX audit_events_write_key_idx ON audit_events (write_key) WHERE write_key IS NOT NULL;
