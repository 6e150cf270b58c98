-- A notification waits while an older one of its group is retrying after a failure (see
-- src/alerts/processor.ts), so a group's notifications apply in the order they came. This index
-- holds only those retrying rows: the check stays cheap in a storm of thousands pending.
CREATE INDEX alert_notifications_retrying_idx ON alert_notifications (group_id, id) WHERE processed_at IS NULL AND attempts >= 1;
