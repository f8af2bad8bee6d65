-- Notifications (notify/): teams the notify config adds beside the inventory's, silences, the
-- alerts the notifier follows, items waiting for their group window, and the outbox.

-- contracts/team.ts Team as JSON, keyed by id.
CREATE TABLE notify_teams (
  id   TEXT PRIMARY KEY,
  team TEXT NOT NULL
);

-- Maintenance windows: a NULL field matches anything; [starts_at, ends_at) in epoch ms.
CREATE TABLE notify_silences (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  community_id TEXT,
  subject      TEXT,
  kind         TEXT,
  starts_at    INTEGER NOT NULL,
  ends_at      INTEGER NOT NULL,
  comment      TEXT NOT NULL,
  created_by   TEXT,
  created_at   INTEGER NOT NULL
);
CREATE INDEX notify_silences_end ON notify_silences(ends_at);

-- One row per alert the notifier has seen: its latest snapshot and its reminder/escalation schedule.
CREATE TABLE notify_alerts (
  alert_id         INTEGER PRIMARY KEY,
  alert            TEXT NOT NULL,     -- contracts/alert.ts Alert as JSON
  state            TEXT NOT NULL,     -- firing | acknowledged | resolved
  team_ids         TEXT NOT NULL,     -- JSON array, resolved when it fired
  announced_at     INTEGER,           -- first firing message put in the outbox
  next_reminder_at INTEGER,
  escalate_at      INTEGER,
  escalated_at     INTEGER,
  reminders        INTEGER NOT NULL DEFAULT 0,
  updated_at       INTEGER NOT NULL
);
CREATE INDEX notify_alerts_reminder ON notify_alerts(state, next_reminder_at);
CREATE INDEX notify_alerts_escalate ON notify_alerts(state, escalate_at);

-- Items waiting to be grouped into one message per (team, audience).
CREATE TABLE notify_pending (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id   INTEGER NOT NULL,
  team_id    TEXT NOT NULL,
  audience   TEXT NOT NULL,           -- team | supervisor
  reason     TEXT NOT NULL,           -- firing | reminder | escalation | resolved
  created_at INTEGER NOT NULL,
  hold_until INTEGER NOT NULL,        -- not before: quiet hours or a silence
  silence_id INTEGER                  -- the silence holding it; deleting the silence releases it
);
CREATE INDEX notify_pending_group ON notify_pending(team_id, audience, hold_until);
CREATE INDEX notify_pending_alert ON notify_pending(alert_id);

-- The durable outbox: one row per (message, channel); worked by its own loop.
CREATE TABLE notify_outbox (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at      INTEGER NOT NULL,
  team_id         TEXT NOT NULL,
  audience        TEXT NOT NULL,
  channel_key     TEXT NOT NULL,      -- type:hash, secret-free
  channel_type    TEXT NOT NULL,
  channel         TEXT NOT NULL,      -- the channel config as JSON (holds secrets: never served)
  alert_ids       TEXT NOT NULL,      -- JSON array
  reasons         TEXT NOT NULL,      -- JSON array, parallel to alert_ids
  payload         TEXT NOT NULL,      -- rendered message and alert snapshots as JSON
  state           TEXT NOT NULL DEFAULT 'pending', -- pending | sending | sent | failed
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT,
  sent_at         INTEGER
);
CREATE INDEX notify_outbox_due ON notify_outbox(state, next_attempt_at);
CREATE INDEX notify_outbox_channel ON notify_outbox(channel_key, id);
