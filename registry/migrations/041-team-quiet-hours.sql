-- A team's own quiet hours (contracts/team.ts QuietHours), as the inventory carries them:
-- SQL NULL = the team has none of its own (the notify config's apply);
-- the JSON text 'null' = no quiet hours for this team at all;
-- a JSON object {start, end[, utcOffsetMinutes]} = its window.
ALTER TABLE teams ADD COLUMN quiet_hours TEXT;
