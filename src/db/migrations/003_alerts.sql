-- Every alert notification Vigil accepted, stored before the 2xx so a crash right after loses
-- nothing. The processor applies them to their group in order and marks them processed; a failed
-- attempt is retried later (next_attempt_at), never dropped.
CREATE TABLE alert_notifications (
  id              bigserial   PRIMARY KEY,
  -- 'alertmanager', or 'vigil' for Vigil's own rules and its dead-man's switch.
  source          text        NOT NULL,
  -- Short hash of (source, receiver, groupKey): the alert group this notification is about.
  group_id        text        NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now(),
  -- The validated, normalised notification (see src/alerts/notification.ts).
  payload         jsonb       NOT NULL,
  processed_at    timestamptz,
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text
);

CREATE INDEX alert_notifications_pending_idx ON alert_notifications (next_attempt_at, id) WHERE processed_at IS NULL;

-- One row per alert group: what its Slack message shows now. Changed only under the group's
-- advisory lock, by the processor (notifications) and by clicks (acknowledge), so a click and an
-- auto-resolve never overwrite each other.
CREATE TABLE alert_groups (
  group_id             text        PRIMARY KEY,
  source               text        NOT NULL,
  group_key            text        NOT NULL,
  receiver             text        NOT NULL,
  -- Where this epoch's message lives (chosen when it first fired) and its severity.
  channel              text        NOT NULL,
  severity             text        NOT NULL,
  status               text        NOT NULL CHECK (status IN ('firing', 'resolved')),
  -- The rest of the visible state: alerts by fingerprint, common labels and annotations.
  state                jsonb       NOT NULL,
  -- A group that resolves and, after its cooldown, fires again gets a new message: a new epoch.
  epoch                integer     NOT NULL DEFAULT 1,
  -- Bumped on every visible change; part of the outbox keys, so a retried change is sent once.
  version              integer     NOT NULL DEFAULT 1,
  fired_at             timestamptz NOT NULL,
  resolved_at          timestamptz,
  flaps                integer     NOT NULL DEFAULT 0,
  last_reply_at        timestamptz,
  acked_by             text,
  acked_at             timestamptz,
  escalated_at         timestamptz,
  -- Outbox key of this epoch's message; null while no Slack outbox could take it.
  message_key          text,
  last_notification_id bigint      NOT NULL DEFAULT 0,
  updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX alert_groups_firing_idx ON alert_groups (fired_at) WHERE status = 'firing';
