-- Every slash command run, from any front door. Append-only: rows are inserted, never updated.
CREATE TABLE command_runs (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT now(),
  surface      text        NOT NULL CHECK (surface IN ('slack', 'shell', 'cli')),
  user_id      text        NOT NULL,
  user_name    text,
  channel_id   text,
  team_id      text,
  command      text        NOT NULL,
  args         text        NOT NULL,
  outcome      text        NOT NULL,
  duration_ms  double precision NOT NULL,
  error        text
);

CREATE INDEX command_runs_at_idx ON command_runs (at DESC);
CREATE INDEX command_runs_user_idx ON command_runs (user_id, at DESC);
