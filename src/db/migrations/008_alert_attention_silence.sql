-- Escalation measures from here: when the group first showed, fired again after resolving (a
-- flap), or was un-acknowledged. Null on rows written before: arrived_at then.
ALTER TABLE alert_groups ADD COLUMN attention_since timestamptz;
-- The silence covering the group's firing alerts now (Alertmanager's or Vigil's own), as its
-- message shows it: id, who, until when, why, matchers. Null while nothing silences it.
ALTER TABLE alert_groups ADD COLUMN silence jsonb;
