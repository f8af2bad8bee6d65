-- The seq (alert_transitions.id) of the last alert transition the notifier recorded for the
-- alert (notify/decide.ts): with nodes sharing the tracker, two nodes' transitions of one alert
-- can be recorded in the other order than written; one at or below this is older than what is
-- recorded and is passed over. NULL: no transition with a seq recorded yet (rows from before).
ALTER TABLE notify_alerts ADD COLUMN last_seq INTEGER;
