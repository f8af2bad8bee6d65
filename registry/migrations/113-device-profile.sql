-- The device profile (ingest/profiles/*.yaml, or the operator's directory) that says how
-- this device's decoded uplinks map to our fields; NULL = the generic field names.
ALTER TABLE devices ADD COLUMN profile TEXT;
