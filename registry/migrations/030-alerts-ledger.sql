-- Alerts, their transitions and comments, and the fault ledger (work orders).
CREATE TABLE alerts (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  kind            TEXT NOT NULL,
  subject         TEXT NOT NULL,
  severity        TEXT NOT NULL,
  state           TEXT NOT NULL,           -- firing | acknowledged | resolved
  message         TEXT NOT NULL,
  community_id    TEXT,
  district_id     TEXT,
  details         TEXT,                    -- JSON
  first_fired_at  INTEGER NOT NULL,        -- epoch ms
  last_changed_at INTEGER NOT NULL,
  acknowledged_at INTEGER,
  acknowledged_by TEXT,
  resolved_at     INTEGER,
  resolved_by     TEXT,
  resolution_note TEXT
);
-- The invariant "one active alert per (kind, subject)" is the database's, not only the code's:
-- a second writer (another connection, a race) fails here instead of opening a duplicate.
CREATE UNIQUE INDEX alerts_one_active ON alerts(kind, subject) WHERE state <> 'resolved';
CREATE INDEX alerts_community ON alerts(community_id, first_fired_at);
CREATE INDEX alerts_state ON alerts(state, last_changed_at);

CREATE TABLE alert_transitions (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id   INTEGER NOT NULL REFERENCES alerts(id),
  from_state TEXT,
  to_state   TEXT NOT NULL,                -- firing | acknowledged | resolved | escalated
  severity   TEXT NOT NULL,
  at         INTEGER NOT NULL,
  by         TEXT,
  note       TEXT
);
CREATE INDEX alert_transitions_alert ON alert_transitions(alert_id, id);

CREATE TABLE alert_comments (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id INTEGER NOT NULL REFERENCES alerts(id),
  at       INTEGER NOT NULL,
  by       TEXT NOT NULL,
  text     TEXT NOT NULL
);
CREATE INDEX alert_comments_alert ON alert_comments(alert_id, id);

CREATE TABLE work_orders (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id     INTEGER NOT NULL UNIQUE REFERENCES alerts(id), -- never two work orders for one alert
  state        TEXT NOT NULL,              -- open | assigned | accepted | resolved | closed | cancelled
  severity     TEXT NOT NULL,
  community_id TEXT,
  district_id  TEXT,
  title        TEXT NOT NULL,
  assignee     TEXT,
  created_at   INTEGER NOT NULL,
  due_at       INTEGER NOT NULL,           -- SLA deadline for the fix (resolved_at)
  accepted_at  INTEGER,
  resolved_at  INTEGER,
  resolution   TEXT,
  photo_url    TEXT,
  closed_at    INTEGER,
  closed_by    TEXT,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX work_orders_state ON work_orders(state, due_at);
CREATE INDEX work_orders_community ON work_orders(community_id, created_at);
CREATE INDEX work_orders_assignee ON work_orders(assignee, state);

CREATE TABLE work_order_events (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
  at            INTEGER NOT NULL,
  action        TEXT NOT NULL,
  from_state    TEXT,
  to_state      TEXT NOT NULL,
  by            TEXT,
  note          TEXT,
  photo_url     TEXT
);
CREATE INDEX work_order_events_wo ON work_order_events(work_order_id, id);
