-- MQTT accounts that are not devices: LoRaWAN network servers confined to their
-- application trees, and admin accounts for diagnosis. Secrets as salted scrypt hashes.
CREATE TABLE service_accounts (
  id           TEXT PRIMARY KEY,
  kind         TEXT NOT NULL,          -- chirpstack | tts | admin
  applications TEXT NOT NULL,          -- JSON array: ChirpStack application ids or TTS {app}@{tenant}
  secret_hash  TEXT NOT NULL,
  disabled     INTEGER NOT NULL DEFAULT 0,
  created_at   TEXT NOT NULL
);
