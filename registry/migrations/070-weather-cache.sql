-- The weather feed's last good answer per place (weather/store.ts): a restart starts from
-- the last known ET0 and forecast instead of nothing. One row per place key (lat,lon to
-- two decimals); `series` is the normalised JSON of weather/series.ts.
CREATE TABLE weather_cache (
  location_key TEXT PRIMARY KEY,
  lat          REAL NOT NULL,
  lon          REAL NOT NULL,
  fetched_at   INTEGER NOT NULL,
  series       TEXT NOT NULL
);
