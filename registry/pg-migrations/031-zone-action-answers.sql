-- Forwarded zone actions applied once cluster-wide (issue 17; cluster/zone-forward.ts): each
-- correlation id the owner of a community ran, claimed before it runs and with its answer
-- once given, so a repeat of the request that reaches a new owner after the community changed
-- hands is answered from here instead of run again. Kept ten minutes (the receiving node's
-- repeat comes within seconds); older rows are deleted by the owners as they claim new ones.
CREATE TABLE zone_action_answers (
  id         TEXT PRIMARY KEY,            -- the request's correlation id (a UUID)
  community  TEXT NOT NULL,
  node       TEXT NOT NULL,               -- the node that claimed it
  answer     TEXT,                        -- JSON {status, body}; NULL while the action runs (or if its node died then)
  claimed_at BIGINT NOT NULL
);
CREATE INDEX zone_action_answers_claimed ON zone_action_answers(claimed_at);
