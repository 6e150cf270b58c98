-- Incidents (issue 21): declared from an alert group's message or with /incident declare, worked in
-- a Slack channel of their own, resolved with a write-up built from the audit trail.
--
-- The row is the truth about the incident's channel: `channel_id` stays null until Slack created
-- it, and the channel worker (src/incidents/channel-sync.ts) brings Slack in line with the row
-- (create, purpose, invites, topic), so a crash or a retry between two Slack calls only repeats
-- what is idempotent.
CREATE TABLE incidents (
  id             bigserial   PRIMARY KEY,
  title          text        NOT NULL,
  severity       text        NOT NULL CHECK (severity IN ('sev1', 'sev2', 'sev3')),
  lead           text        NOT NULL,
  declared_by    text        NOT NULL,
  declared_at    timestamptz NOT NULL DEFAULT now(),
  status         text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  -- The name the channel is created under (deterministic: prefix, date, title); a name someone
  -- else holds moves on to `<name>-2`, `-3` … (name_attempt counts how far).
  channel_name   text        NOT NULL,
  name_attempt   integer     NOT NULL DEFAULT 0,
  channel_id     text,
  -- Who must be in the channel (declarer, lead, configured users and user groups' members) and who
  -- Slack already took in; the topic last set (severity, lead, status) so a change sets it again.
  invite_users   text[]      NOT NULL DEFAULT '{}',
  invite_groups  text[]      NOT NULL DEFAULT '{}',
  invited        text[]      NOT NULL DEFAULT '{}',
  purpose_set    boolean     NOT NULL DEFAULT false,
  topic_set      text,
  -- A replica working on the channel holds this lease; another takes over once it has passed.
  sync_until     timestamptz,
  sync_error     text,
  resolved_at    timestamptz,
  resolved_by    text,
  summary        text,
  -- The audit event range the write-up was built from (`vigil incident export` names it too).
  audit_from     bigint,
  audit_to       bigint
);

CREATE INDEX incidents_open_idx ON incidents (id) WHERE status = 'open';
CREATE UNIQUE INDEX incidents_channel_idx ON incidents (channel_id) WHERE channel_id IS NOT NULL;

-- Alert groups an incident is about. One open incident per alert group, guarded here: however many
-- people press Declare at once, on however many replicas, only one link (and so one incident)
-- commits; the others find it and link to it.
CREATE TABLE incident_groups (
  incident_id  bigint      NOT NULL REFERENCES incidents (id),
  group_id     text        NOT NULL,
  epoch        integer     NOT NULL,
  linked_by    text        NOT NULL,
  linked_at    timestamptz NOT NULL DEFAULT now(),
  -- False once the incident is resolved: the group may be declared again.
  open         boolean     NOT NULL DEFAULT true,
  PRIMARY KEY (incident_id, group_id)
);

CREATE UNIQUE INDEX incident_groups_one_open_idx ON incident_groups (group_id) WHERE open;

-- Status updates as typed (the audit event holds them too; this is what the channel shows).
CREATE TABLE incident_updates (
  id           bigserial   PRIMARY KEY,
  incident_id  bigint      NOT NULL REFERENCES incidents (id),
  author       text        NOT NULL,
  at           timestamptz NOT NULL DEFAULT now(),
  text         text        NOT NULL
);

CREATE INDEX incident_updates_incident_idx ON incident_updates (incident_id, id);

-- Timeline items already shown in the incident's channel (src/incidents/relay.ts): each once.
CREATE TABLE incident_relayed (
  incident_id  bigint      NOT NULL REFERENCES incidents (id),
  item_key     text        NOT NULL,
  relayed_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, item_key)
);
