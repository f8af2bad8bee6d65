-- API bearer tokens. Only the SHA-256 of each token is kept: tokens are 256-bit random
-- strings, so a fast hash is enough (no dictionary to guess from) and allows a keyed lookup.
CREATE TABLE api_tokens (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  role        TEXT NOT NULL,
  districts   TEXT,                  -- JSON array of district ids; NULL = the whole city
  token_hash  TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL,
  revoked_at  TEXT
);
