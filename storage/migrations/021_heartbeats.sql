-- The heartbeat of each running bot (SPEC §9, `wiq-bot health`): one row per instance (a
-- process, named by host and pid), written every `[health] interval` while its event loop
-- turns, with the end of its last getUpdates round trip (Telegram answered). `wiq-bot health`
-- reads the newest. A stopped instance notes when it stopped; rows of instances gone for a
-- week are removed when a new one starts.
CREATE TABLE heartbeats (
    instance    TEXT PRIMARY KEY,  -- host:pid
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    beat_at     TEXT NOT NULL,     -- the heartbeat job last ran: the event loop turns
    telegram_at TEXT,              -- the last getUpdates round trip ended; NULL: none yet
    stopped_at  TEXT               -- a clean stop (SIGTERM)
);
