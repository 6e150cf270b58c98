-- When Vigil first showed this epoch of the group (its message posted or counted in a storm
-- summary): what storm detection counts and what escalation measures from.
ALTER TABLE alert_groups ADD COLUMN arrived_at timestamptz NOT NULL DEFAULT now();
-- Set while the group is shown in its channel's storm summary instead of a message of its own.
ALTER TABLE alert_groups ADD COLUMN storm_id bigint;

CREATE INDEX alert_groups_arrivals_idx ON alert_groups (channel, arrived_at);
CREATE INDEX alert_groups_escalation_idx ON alert_groups (arrived_at) WHERE status = 'firing' AND acked_at IS NULL AND escalated_at IS NULL;

-- A channel in storm mode: new groups are counted in one summary message instead of posted one by one.
CREATE TABLE alert_storms (
  id              bigserial   PRIMARY KEY,
  channel         text        NOT NULL,
  started_at      timestamptz NOT NULL DEFAULT now(),
  -- Set once a minute passes with fewer new groups than the limit; the summary keeps counting
  -- its groups until they resolve.
  ended_at        timestamptz,
  -- Something the summary shows changed since it was last sent.
  dirty           boolean     NOT NULL DEFAULT true,
  summary_version integer     NOT NULL DEFAULT 0,
  last_summary_at timestamptz,
  -- Set when the last of its groups resolved after the storm ended: nothing left to update.
  closed_at       timestamptz
);

CREATE UNIQUE INDEX alert_storms_one_active_idx ON alert_storms (channel) WHERE ended_at IS NULL;

-- Dead-man's switch: the last time the always-firing alert arrived, and whether Vigil raised
-- its own alert about it going quiet.
CREATE TABLE alert_heartbeats (
  alertname    text        PRIMARY KEY,
  last_seen_at timestamptz NOT NULL,
  raised_at    timestamptz
);
