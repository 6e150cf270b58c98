-- The Slack outbox's record of every message Vigil starts (issue 18): written in the caller's own
-- transaction, so a message exists exactly when the change it reports committed. Redis (BullMQ)
-- only wakes a sender; a reconciler re-enqueues open rows whose job Redis lost (a restart without
-- persistence, a failover), and `seq`, from Postgres, keeps every channel's order across that.
CREATE SEQUENCE outbox_seq;
CREATE TABLE outbox_messages (
  key         text PRIMARY KEY,
  seq         bigint NOT NULL DEFAULT nextval('outbox_seq'),
  op          text NOT NULL CHECK (op IN ('post', 'update')),
  channel     text NOT NULL,
  -- The message an update changes or a thread reply answers (its key), for the lost-job checks.
  target      text,
  -- The job as the worker takes it (outboxJobSchema), minus `seq`, which is the column's.
  job         jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- Delivered, superseded by a newer update, or given up: nothing more to send.
  finished_at timestamptz
);
CREATE INDEX outbox_messages_open_idx ON outbox_messages (created_at) WHERE finished_at IS NULL;
CREATE INDEX outbox_messages_finished_idx ON outbox_messages (finished_at) WHERE finished_at IS NOT NULL;
