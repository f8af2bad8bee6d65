-- Irrigation: per-zone decider state, the decision log, operator overrides,
-- and the alert signals raised until the alert service takes them over.

-- The decider's state as JSON (rules/irrigation/state.ts), so a restart resumes or closes a run safely.
CREATE TABLE irrigation_state (
  zone_id    TEXT PRIMARY KEY,
  state      TEXT NOT NULL,
  updated_at INTEGER NOT NULL            -- epoch ms
);

-- Every start, stop, skip, soak, alert and operator action, with its reason and inputs.
CREATE TABLE irrigation_decisions (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  zone_id    TEXT NOT NULL,
  at         INTEGER NOT NULL,           -- epoch ms
  action     TEXT NOT NULL,
  reason     TEXT NOT NULL,
  mode       TEXT NOT NULL,
  run_id     TEXT,
  actor      TEXT,
  duration_s REAL,
  volume_l   REAL,
  moisture   REAL,
  inputs     TEXT NOT NULL               -- JSON: the DecisionInputs
);
CREATE INDEX irrigation_decisions_zone ON irrigation_decisions(zone_id, at);

-- Operator overrides layered over the zone's configuration (band, windows, tunables).
CREATE TABLE irrigation_overrides (
  zone_id    TEXT PRIMARY KEY,
  override   TEXT NOT NULL,              -- JSON: { band?, windows?, settings? }
  updated_by TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

-- AlertSignals (valve_no_ack, valve_no_effect, watering_needed) as emitted, kept until
-- (and after) the alert service consumes them through the signal port.
CREATE TABLE irrigation_signals (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  at           INTEGER NOT NULL,
  action       TEXT NOT NULL,            -- raise | clear
  kind         TEXT NOT NULL,
  subject      TEXT NOT NULL,
  severity     TEXT,
  message      TEXT,
  community_id TEXT,
  details      TEXT
);
CREATE INDEX irrigation_signals_subject ON irrigation_signals(subject, at);
