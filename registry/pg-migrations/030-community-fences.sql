-- Fencing the owner's irrigation writes by its lease (issue 17; docs/cluster.md "Fenced
-- writes"): each community's highest fencing token seen, from the lease store (Redis
-- `gs:lease-gen:<community>`, greater for every acquisition). A node that takes a community
-- over raises it to its token before reading the zones' state; a zone state written with a
-- lower token (a node that lost the lease and does not know yet) is refused in the same
-- transaction, so it cannot overwrite the new owner's state or close its run.
CREATE TABLE community_fences (
  community_id TEXT PRIMARY KEY,
  token        BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL
);
