-- The registry replicated through PostgreSQL (registry/replica/, docs/cluster.md "The registry
-- in PostgreSQL"). Triggers on the registry tables record each changed row key in
-- registry_outbound, which the replicator ships; they fire only while registry_capture.enabled = 1,
-- which the replicator sets when GS_POSTGRES_URL is given (and clears while it applies rows
-- from PostgreSQL, so a remote change is not shipped back). One process without PostgreSQL
-- leaves it 0: a registry write pays one WHEN lookup, and readings write no registry row.
CREATE TABLE registry_capture (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  enabled INTEGER NOT NULL DEFAULT 0
);
INSERT INTO registry_capture (id, enabled) VALUES (1, 0);

-- pk: the row key as a JSON array of its key columns (one element for every table but team_communities).
CREATE TABLE registry_outbound (
  id  INTEGER PRIMARY KEY AUTOINCREMENT,
  tbl TEXT NOT NULL,
  pk  TEXT NOT NULL
);

-- last_seq: the highest registry_rows.seq applied here (absent: never synced with PostgreSQL).
CREATE TABLE registry_replica (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TRIGGER registry_capture_districts_insert AFTER INSERT ON districts WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('districts', json_array(NEW.id)); END;
CREATE TRIGGER registry_capture_districts_update AFTER UPDATE ON districts WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN
  INSERT INTO registry_outbound (tbl, pk) VALUES ('districts', json_array(NEW.id));
  INSERT INTO registry_outbound (tbl, pk) SELECT 'districts', json_array(OLD.id) WHERE OLD.id IS NOT NEW.id;
END;
CREATE TRIGGER registry_capture_districts_delete AFTER DELETE ON districts WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('districts', json_array(OLD.id)); END;

CREATE TRIGGER registry_capture_sub_districts_insert AFTER INSERT ON sub_districts WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('sub_districts', json_array(NEW.id)); END;
CREATE TRIGGER registry_capture_sub_districts_update AFTER UPDATE ON sub_districts WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN
  INSERT INTO registry_outbound (tbl, pk) VALUES ('sub_districts', json_array(NEW.id));
  INSERT INTO registry_outbound (tbl, pk) SELECT 'sub_districts', json_array(OLD.id) WHERE OLD.id IS NOT NEW.id;
END;
CREATE TRIGGER registry_capture_sub_districts_delete AFTER DELETE ON sub_districts WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('sub_districts', json_array(OLD.id)); END;

CREATE TRIGGER registry_capture_communities_insert AFTER INSERT ON communities WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('communities', json_array(NEW.id)); END;
CREATE TRIGGER registry_capture_communities_update AFTER UPDATE ON communities WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN
  INSERT INTO registry_outbound (tbl, pk) VALUES ('communities', json_array(NEW.id));
  INSERT INTO registry_outbound (tbl, pk) SELECT 'communities', json_array(OLD.id) WHERE OLD.id IS NOT NEW.id;
END;
CREATE TRIGGER registry_capture_communities_delete AFTER DELETE ON communities WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('communities', json_array(OLD.id)); END;

CREATE TRIGGER registry_capture_zones_insert AFTER INSERT ON zones WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('zones', json_array(NEW.id)); END;
CREATE TRIGGER registry_capture_zones_update AFTER UPDATE ON zones WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN
  INSERT INTO registry_outbound (tbl, pk) VALUES ('zones', json_array(NEW.id));
  INSERT INTO registry_outbound (tbl, pk) SELECT 'zones', json_array(OLD.id) WHERE OLD.id IS NOT NEW.id;
END;
CREATE TRIGGER registry_capture_zones_delete AFTER DELETE ON zones WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('zones', json_array(OLD.id)); END;

CREATE TRIGGER registry_capture_facilities_insert AFTER INSERT ON facilities WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('facilities', json_array(NEW.id)); END;
CREATE TRIGGER registry_capture_facilities_update AFTER UPDATE ON facilities WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN
  INSERT INTO registry_outbound (tbl, pk) VALUES ('facilities', json_array(NEW.id));
  INSERT INTO registry_outbound (tbl, pk) SELECT 'facilities', json_array(OLD.id) WHERE OLD.id IS NOT NEW.id;
END;
CREATE TRIGGER registry_capture_facilities_delete AFTER DELETE ON facilities WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('facilities', json_array(OLD.id)); END;

CREATE TRIGGER registry_capture_teams_insert AFTER INSERT ON teams WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('teams', json_array(NEW.id)); END;
CREATE TRIGGER registry_capture_teams_update AFTER UPDATE ON teams WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN
  INSERT INTO registry_outbound (tbl, pk) VALUES ('teams', json_array(NEW.id));
  INSERT INTO registry_outbound (tbl, pk) SELECT 'teams', json_array(OLD.id) WHERE OLD.id IS NOT NEW.id;
END;
CREATE TRIGGER registry_capture_teams_delete AFTER DELETE ON teams WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('teams', json_array(OLD.id)); END;

CREATE TRIGGER registry_capture_team_communities_insert AFTER INSERT ON team_communities WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('team_communities', json_array(NEW.team_id, NEW.community_id)); END;
CREATE TRIGGER registry_capture_team_communities_update AFTER UPDATE ON team_communities WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN
  INSERT INTO registry_outbound (tbl, pk) VALUES ('team_communities', json_array(NEW.team_id, NEW.community_id));
  INSERT INTO registry_outbound (tbl, pk) SELECT 'team_communities', json_array(OLD.team_id, OLD.community_id) WHERE OLD.team_id IS NOT NEW.team_id OR OLD.community_id IS NOT NEW.community_id;
END;
CREATE TRIGGER registry_capture_team_communities_delete AFTER DELETE ON team_communities WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('team_communities', json_array(OLD.team_id, OLD.community_id)); END;

CREATE TRIGGER registry_capture_technicians_insert AFTER INSERT ON technicians WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('technicians', json_array(NEW.id)); END;
CREATE TRIGGER registry_capture_technicians_update AFTER UPDATE ON technicians WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN
  INSERT INTO registry_outbound (tbl, pk) VALUES ('technicians', json_array(NEW.id));
  INSERT INTO registry_outbound (tbl, pk) SELECT 'technicians', json_array(OLD.id) WHERE OLD.id IS NOT NEW.id;
END;
CREATE TRIGGER registry_capture_technicians_delete AFTER DELETE ON technicians WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('technicians', json_array(OLD.id)); END;

CREATE TRIGGER registry_capture_devices_insert AFTER INSERT ON devices WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('devices', json_array(NEW.id)); END;
CREATE TRIGGER registry_capture_devices_update AFTER UPDATE ON devices WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN
  INSERT INTO registry_outbound (tbl, pk) VALUES ('devices', json_array(NEW.id));
  INSERT INTO registry_outbound (tbl, pk) SELECT 'devices', json_array(OLD.id) WHERE OLD.id IS NOT NEW.id;
END;
CREATE TRIGGER registry_capture_devices_delete AFTER DELETE ON devices WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('devices', json_array(OLD.id)); END;

CREATE TRIGGER registry_capture_api_tokens_insert AFTER INSERT ON api_tokens WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('api_tokens', json_array(NEW.id)); END;
CREATE TRIGGER registry_capture_api_tokens_update AFTER UPDATE ON api_tokens WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN
  INSERT INTO registry_outbound (tbl, pk) VALUES ('api_tokens', json_array(NEW.id));
  INSERT INTO registry_outbound (tbl, pk) SELECT 'api_tokens', json_array(OLD.id) WHERE OLD.id IS NOT NEW.id;
END;
CREATE TRIGGER registry_capture_api_tokens_delete AFTER DELETE ON api_tokens WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('api_tokens', json_array(OLD.id)); END;

CREATE TRIGGER registry_capture_service_accounts_insert AFTER INSERT ON service_accounts WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('service_accounts', json_array(NEW.id)); END;
CREATE TRIGGER registry_capture_service_accounts_update AFTER UPDATE ON service_accounts WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN
  INSERT INTO registry_outbound (tbl, pk) VALUES ('service_accounts', json_array(NEW.id));
  INSERT INTO registry_outbound (tbl, pk) SELECT 'service_accounts', json_array(OLD.id) WHERE OLD.id IS NOT NEW.id;
END;
CREATE TRIGGER registry_capture_service_accounts_delete AFTER DELETE ON service_accounts WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('service_accounts', json_array(OLD.id)); END;

CREATE TRIGGER registry_capture_users_insert AFTER INSERT ON users WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('users', json_array(NEW.name)); END;
CREATE TRIGGER registry_capture_users_update AFTER UPDATE ON users WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN
  INSERT INTO registry_outbound (tbl, pk) VALUES ('users', json_array(NEW.name));
  INSERT INTO registry_outbound (tbl, pk) SELECT 'users', json_array(OLD.name) WHERE OLD.name IS NOT NEW.name;
END;
CREATE TRIGGER registry_capture_users_delete AFTER DELETE ON users WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('users', json_array(OLD.name)); END;

CREATE TRIGGER registry_capture_user_sessions_insert AFTER INSERT ON user_sessions WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('user_sessions', json_array(NEW.id_hash)); END;
CREATE TRIGGER registry_capture_user_sessions_update AFTER UPDATE ON user_sessions WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN
  INSERT INTO registry_outbound (tbl, pk) VALUES ('user_sessions', json_array(NEW.id_hash));
  INSERT INTO registry_outbound (tbl, pk) SELECT 'user_sessions', json_array(OLD.id_hash) WHERE OLD.id_hash IS NOT NEW.id_hash;
END;
CREATE TRIGGER registry_capture_user_sessions_delete AFTER DELETE ON user_sessions WHEN (SELECT enabled FROM registry_capture WHERE id = 1) = 1
BEGIN INSERT INTO registry_outbound (tbl, pk) VALUES ('user_sessions', json_array(OLD.id_hash)); END;
