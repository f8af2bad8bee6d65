-- SQLite migration 121 in PostgreSQL's words: the seq (alert_transitions.id) of the last alert
-- transition the notifier recorded for the alert. Nodes record their own transitions, so two
-- of one alert written milliseconds apart on two nodes can reach the tracker in the other
-- order; one at or below this is older than what is recorded and is passed over
-- (notify/decide.ts). NULL: none with a seq recorded yet.
ALTER TABLE notify_alerts ADD COLUMN last_seq BIGINT;
