-- Escalation measures from here: when the group first showed, fired again after resolving (a
-- flap), or was un-acknowledged. Null on rows written before: arrived_at then.
ALTER TABLE alert_groups ADD COLUMN attention_since timestamptz;
-- The silence covering the group's firing alerts now (Alertmanager's or Vigil's own), as its
-- message shows it: id, who, until when, why, matchers. Null while nothing silences it.
ALTER TABLE alert_groups ADD COLUMN silence jsonb;

-- Silences of Vigil's own rule alerts (Alertmanager never sees those): equality matchers over
-- the alerts' labels, made through the catalog's silence action like Alertmanager's.
CREATE TABLE alert_silences (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  -- [[name, value], …]: an alert is covered when it has every one of these labels with this value.
  matchers    jsonb       NOT NULL,
  created_by  text        NOT NULL,
  comment     text        NOT NULL,
  starts_at   timestamptz NOT NULL DEFAULT now(),
  ends_at     timestamptz NOT NULL,
  -- Set when someone ended it early (Unsilence).
  expired_at  timestamptz
);

CREATE INDEX alert_silences_active_idx ON alert_silences (ends_at) WHERE expired_at IS NULL;

-- Applied notifications are pruned by age (alerts.keepNotificationsDays): found by this index.
CREATE INDEX alert_notifications_processed_idx ON alert_notifications (processed_at) WHERE processed_at IS NOT NULL;

-- A storm's overdue groups are escalated together: one message, one mention, set once.
ALTER TABLE alert_storms ADD COLUMN escalated_at timestamptz;
