-- Alert signals a node holds while its alert store (PostgreSQL) does not answer
-- (health/signal-queue.ts, health/signal-spill.ts): kept on the node's own disk, so a restart
-- during the outage applies them at the next start instead of losing them. Empty whenever
-- the store answers; only a node with GS_POSTGRES_URL writes here.
CREATE TABLE held_alert_signals (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,   -- the order they were given
  signal  TEXT NOT NULL,                       -- JSON: contracts/alert.ts AlertSignal
  held_at INTEGER NOT NULL
);
