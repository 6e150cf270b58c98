-- Rows hashed with VIGIL_AUDIT_KEY (HMAC-SHA256, hash version vigil-audit/2) rather than plain
-- SHA-256 (issue 18): a role that may INSERT can no longer append a row that checks out, and
-- `vigil audit verify` refuses an unkeyed row after a keyed one. Earlier rows stay unkeyed.
ALTER TABLE audit_events ADD COLUMN keyed boolean NOT NULL DEFAULT false;
