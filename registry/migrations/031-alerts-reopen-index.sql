-- The alert service looks up the latest resolved alert of a (kind, subject) on every new raise,
-- to reopen it when the condition came back shortly after an automatic clear (alerts/reopen.ts).
-- The partial unique index covers only active alerts; this one makes that lookup a seek.
CREATE INDEX alerts_key ON alerts(kind, subject, id);
