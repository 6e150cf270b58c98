-- Every message the Slack outbox has posted, by the caller's idempotency key (e.g.
-- 'alert:<groupKey>:post'). Any replica finds the (channel, ts) here to update the message or to
-- reply in its thread, and the outbox checks it before posting so a retried job never posts twice.
CREATE TABLE slack_messages (
  key         text        PRIMARY KEY,
  channel     text        NOT NULL,
  ts          text        NOT NULL,
  -- The parent's ts when the message is a thread reply.
  thread_ts   text,
  posted_at   timestamptz NOT NULL DEFAULT now(),
  -- Last successful chat.update of this message, if any.
  updated_at  timestamptz
);

CREATE INDEX slack_messages_posted_at_idx ON slack_messages (posted_at DESC);
