-- The cluster's record of the registry (registry/replica/): the latest image of every row of the
-- replicated SQLite tables, keyed by (table, key), a NULL row for a deleted one. seq is taken
-- from registry_rows_seq each time a row is written, under the advisory lock every shipper
-- holds, so rows become visible in seq order and a node that applied up to seq N needs only
-- the rows above N. One row per key: the table is as large as the registry, not its history.
CREATE SEQUENCE registry_rows_seq;
CREATE TABLE registry_rows (
  tbl        TEXT   NOT NULL,
  pk         TEXT   NOT NULL,   -- JSON array of the key columns' values
  row        JSONB,             -- the row as SQLite has it, by column name; NULL: deleted
  seq        BIGINT NOT NULL,
  origin     TEXT   NOT NULL,   -- the node that shipped it (its applier skips its own rows)
  shipped_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (tbl, pk)
);
CREATE INDEX registry_rows_seq_idx ON registry_rows (seq);
