-- How far each rollup resolution has been written (rollups/cursor.ts): every window that
-- ends at or before `done_until_ms` is in its rollup measurement. A restart, or an
-- InfluxDB outage, resumes from here, so no window is skipped and none is rolled twice.
CREATE TABLE rollup_cursor (
  resolution    TEXT PRIMARY KEY,
  done_until_ms INTEGER NOT NULL
);
