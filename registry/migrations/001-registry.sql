-- The place hierarchy and the devices in it. Ids are the operator's own codes
-- (stable, human-readable), so inventory files and MQTT topics use them directly.
CREATE TABLE districts (
  id   TEXT PRIMARY KEY,
  name TEXT NOT NULL
);

CREATE TABLE communities (
  id          TEXT PRIMARY KEY,
  district_id TEXT NOT NULL REFERENCES districts(id),
  name        TEXT NOT NULL
);

CREATE TABLE zones (
  id           TEXT PRIMARY KEY,
  community_id TEXT NOT NULL REFERENCES communities(id),
  name         TEXT NOT NULL,
  plant        TEXT NOT NULL DEFAULT 'shrubs',
  mode         TEXT NOT NULL DEFAULT 'automatic'
);

CREATE TABLE facilities (
  id             TEXT PRIMARY KEY,
  community_id   TEXT NOT NULL REFERENCES communities(id),
  name           TEXT NOT NULL,
  type           TEXT NOT NULL DEFAULT 'other',
  baseline_pitch REAL,
  baseline_roll  REAL
);

CREATE TABLE devices (
  id                TEXT PRIMARY KEY,
  kind              TEXT NOT NULL,
  secret_hash       TEXT NOT NULL,
  community_id      TEXT REFERENCES communities(id),
  zone_id           TEXT REFERENCES zones(id),
  facility_id       TEXT REFERENCES facilities(id),
  dev_eui           TEXT UNIQUE,
  report_interval_s INTEGER NOT NULL DEFAULT 900,
  disabled          INTEGER NOT NULL DEFAULT 0,
  created_at        TEXT NOT NULL
);
CREATE INDEX devices_zone ON devices(zone_id);
CREATE INDEX devices_facility ON devices(facility_id);
