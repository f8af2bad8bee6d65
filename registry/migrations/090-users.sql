-- People who log in to the web pages. The password is kept only as a salted scrypt hash
-- (registry/secrets.ts). Role and districts mean what they mean on an API token.
CREATE TABLE users (
  name           TEXT PRIMARY KEY,
  role           TEXT NOT NULL,
  districts      TEXT,                  -- JSON array of district ids; NULL = the whole city
  password_hash  TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  password_changed_at TEXT NOT NULL,
  disabled_at    TEXT
);

-- Login sessions. The cookie carries a random 256-bit id; only its SHA-256 is kept, so a
-- copy of the database does not log anyone in. csrf is the synchronizer token every
-- state-changing request of the session must echo in X-CSRF-Token.
CREATE TABLE user_sessions (
  id_hash     TEXT PRIMARY KEY,
  user_name   TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  csrf        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions(user_name);
