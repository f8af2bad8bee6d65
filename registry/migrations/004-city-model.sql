-- The whole city: sub-districts between districts and communities, facility locations and
-- threshold overrides, the gateway a device reports through, teams and technicians.
--
-- retired_at: set when an inventory import no longer lists a row (see inventory/README.md).
-- Rows are retired rather than deleted by default, so alerts, work orders and InfluxDB
-- history keep pointing at something, and a device that comes back keeps its secret.
CREATE TABLE sub_districts (
  id          TEXT PRIMARY KEY,
  district_id TEXT NOT NULL REFERENCES districts(id),
  name        TEXT NOT NULL,
  retired_at  TEXT
);
CREATE INDEX sub_districts_district ON sub_districts(district_id);

ALTER TABLE districts ADD COLUMN retired_at TEXT;

ALTER TABLE communities ADD COLUMN sub_district_id TEXT REFERENCES sub_districts(id);
ALTER TABLE communities ADD COLUMN retired_at TEXT;
CREATE INDEX communities_sub_district ON communities(sub_district_id);

ALTER TABLE zones ADD COLUMN retired_at TEXT;
CREATE INDEX zones_community ON zones(community_id);

ALTER TABLE facilities ADD COLUMN lat REAL;
ALTER TABLE facilities ADD COLUMN lon REAL;
ALTER TABLE facilities ADD COLUMN location TEXT;            -- free text: "north gate, beside building 3"
ALTER TABLE facilities ADD COLUMN tilt_warning_deg REAL;    -- NULL: the facility type's default
ALTER TABLE facilities ADD COLUMN tilt_critical_deg REAL;
ALTER TABLE facilities ADD COLUMN retired_at TEXT;
CREATE INDEX facilities_community ON facilities(community_id);

-- No foreign key: a gateway and the devices behind it arrive in one import, in any order;
-- the inventory checks that it names a gateway-kind device.
ALTER TABLE devices ADD COLUMN gateway_id TEXT;
ALTER TABLE devices ADD COLUMN retired_at TEXT;
CREATE INDEX devices_gateway ON devices(gateway_id);

-- An O&M contractor team (contracts/team.ts). Channels are stored as the JSON the Team
-- schema produces, since they are read and written whole.
CREATE TABLE teams (
  id                  TEXT PRIMARY KEY,
  name                TEXT NOT NULL,
  channels            TEXT NOT NULL DEFAULT '[]',
  supervisor_channels TEXT NOT NULL DEFAULT '[]',
  retired_at          TEXT
);

CREATE TABLE team_communities (
  team_id      TEXT NOT NULL REFERENCES teams(id),
  community_id TEXT NOT NULL REFERENCES communities(id),
  PRIMARY KEY (team_id, community_id)
);
CREATE INDEX team_communities_community ON team_communities(community_id);

CREATE TABLE technicians (
  id         TEXT PRIMARY KEY,
  team_id    TEXT NOT NULL REFERENCES teams(id),
  name       TEXT NOT NULL,
  phone      TEXT,
  email      TEXT,
  retired_at TEXT
);
CREATE INDEX technicians_team ON technicians(team_id);
