-- The inbox (SPEC §9): every update a getUpdates answer brings is stored here before its
-- offset can be confirmed to Telegram, and marked handled when its handling finished. What a
-- stop leaves unhandled is handled at the next start, once, in update_id order; an update
-- Telegram delivers again is recognised here and not handled twice. A handled row keeps only
-- its update_id and times (the payload, which names people, is dropped) and is purged after
-- a while.
CREATE TABLE inbox (
    update_id INTEGER PRIMARY KEY,
    payload TEXT,                  -- the update as Telegram sent it (JSON); NULL once handled
    received_at TEXT NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1,  -- how often a getUpdates answer brought it
    handled_at TEXT
);
-- No index: every write of the hot path (a row per answer, a mark per update) writes only the
-- table's pages; what is unhandled is read once at start, and the purge scans a table that
-- holds two days of update_ids.
