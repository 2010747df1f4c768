-- Weekly digests: one row per scheduled moment (slot) that was run, and one per chat it
-- went to, so a digest missed while the bot was down is sent once, and never twice.
-- (Reminders use rounds.reminder_sent_at and votes.reminder_sent_at from 002.)

CREATE TABLE digest_slots (
    network_id   INTEGER NOT NULL REFERENCES networks(id),
    slot         TEXT NOT NULL,   -- the scheduled moment (UTC)
    started_at   TEXT NOT NULL,
    PRIMARY KEY (network_id, slot)
);

CREATE TABLE digest_deliveries (
    network_id   INTEGER NOT NULL REFERENCES networks(id),
    slot         TEXT NOT NULL,
    target       TEXT NOT NULL,   -- 'team' (its weekly digest), 'network' or 'public'
    chat_id      INTEGER NOT NULL,
    team_id      INTEGER REFERENCES teams(id),
    claimed_at   TEXT NOT NULL,
    sent_at      TEXT,
    PRIMARY KEY (network_id, slot, chat_id)
);
