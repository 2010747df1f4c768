-- Several webhook workers on one database (SPEC §9 "Several workers"). What only one worker
-- may do at a time is a claim with a lease: a row here, taken by one statement that succeeds
-- only when nobody holds it or the holder's lease ran out (storage/claims.py), renewed while
-- the holder lives and removed when it lets go. A worker killed mid-claim leaves it to the
-- others once the lease has run out. Kinds: 'outbox' (item: a chat id; the one worker sending
-- that chat's queue, so each group's budget holds across workers).
CREATE TABLE claims (
    kind        TEXT NOT NULL,
    item        INTEGER NOT NULL,  -- what is claimed: for 'outbox', the chat id
    holder      TEXT NOT NULL,     -- the worker (host:pid)
    lease_until REAL NOT NULL,     -- epoch seconds: the lease ends
    PRIMARY KEY (kind, item)
);

-- A received update's person (its sender's Telegram id) and the worker handling it, with a
-- lease: a worker handles a person's update only when no earlier unhandled update of theirs
-- is in the inbox (in order across workers), and takes over one whose worker's lease ran out.
-- Written only when workers share the database ([webhook] workers_share_database); NULL in
-- a deployment of one process, whose rows the partial index leaves out.
ALTER TABLE inbox ADD COLUMN person INTEGER;
ALTER TABLE inbox ADD COLUMN worker TEXT;
ALTER TABLE inbox ADD COLUMN lease_until REAL;
CREATE INDEX inbox_person_waiting ON inbox (person, update_id)
    WHERE handled_at IS NULL AND person IS NOT NULL;
CREATE INDEX inbox_leased_waiting ON inbox (lease_until)
    WHERE handled_at IS NULL AND lease_until IS NOT NULL;
