-- What the irrigation rules need of a zone (contracts/zone.ts).
ALTER TABLE zones ADD COLUMN soil TEXT NOT NULL DEFAULT 'loam';
ALTER TABLE zones ADD COLUMN moisture_low REAL;
ALTER TABLE zones ADD COLUMN moisture_high REAL;
ALTER TABLE zones ADD COLUMN valve_id TEXT;
ALTER TABLE zones ADD COLUMN windows TEXT; -- JSON array of cron expressions; NULL = defaults
