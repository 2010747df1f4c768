-- Binding an LT in a deployment of several networks (SPEC §1): a one-time code that a
-- network admin hands out (/ltcode) decides the network the LT joins. Only a hash of the code
-- is kept; it is used once (team_id, used_at) and lapses at expires_at. A startgroup link
-- brings the code into a group first (chat_id): the group's /setup LT NAME then uses it.
CREATE TABLE lt_codes (
    id          INTEGER PRIMARY KEY,
    network_id  INTEGER NOT NULL REFERENCES networks(id),
    code_hash   TEXT NOT NULL UNIQUE,
    issued_at   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    chat_id     INTEGER,   -- the group a link brought it to, waiting for /setup LT NAME
    used_at     TEXT,
    team_id     INTEGER REFERENCES teams(id)
);
CREATE INDEX lt_codes_chat ON lt_codes (chat_id) WHERE chat_id IS NOT NULL;

-- A /setup in a group by an admin of several networks that named none: it waits until that
-- admin picked the network with the bot's buttons, for that /setup only (nothing remembered).
CREATE TABLE setup_waits (
    chat_id      INTEGER NOT NULL,
    telegram_id  INTEGER NOT NULL,
    waiting      TEXT NOT NULL,   -- the update (JSON) of the /setup
    asked_at     TEXT NOT NULL,
    PRIMARY KEY (chat_id, telegram_id)
);
