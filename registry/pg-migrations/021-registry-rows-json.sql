-- registry_rows.row as JSON, not JSONB: JSONB has no text for \u0000 and refuses it, so one
-- registry text holding a NUL character (SQLite and the inventory's names take it) failed its
-- node's every ship from then on: that node's registry changes reached no other node, and each
-- API write there was answered 503. JSON keeps the text as shipped (escape and all); nothing
-- queries inside it.
ALTER TABLE registry_rows ALTER COLUMN row TYPE JSON USING row::json;
