-- Refused messages, kept for inspection. Bounded: the oldest rows are pruned.
CREATE TABLE dead_letters (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  at        INTEGER NOT NULL,          -- epoch ms
  reason    TEXT NOT NULL,
  detail    TEXT NOT NULL,
  device_id TEXT,
  topic     TEXT,
  payload   TEXT                        -- truncated
);
CREATE INDEX dead_letters_at ON dead_letters(at);
CREATE INDEX dead_letters_reason ON dead_letters(reason, at);
CREATE INDEX dead_letters_device ON dead_letters(device_id, at);
