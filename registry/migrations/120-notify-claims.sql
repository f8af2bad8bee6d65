-- A delivery's claim (notify/outbox.ts): who is sending the row and until when. A row in
-- 'sending' whose claim has expired is claimed again, so a worker that died or hung mid-send
-- does not hold its row until the next start. In one process the claim outlasts every send
-- (the send's own timeout plus a margin); in PostgreSQL (pg-migrations/010) it is what keeps
-- two nodes from sending one row at once.
ALTER TABLE notify_outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE notify_outbox ADD COLUMN claimed_until INTEGER;
