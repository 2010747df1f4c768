-- Anliegen (SPEC §8): a person's concern, posted in the PT chat as a new message (never a
-- forward), with their name or anonymously; PT members' replies reach them through the bot.
-- The PT sees only the posted text: who sent an anonymous concern lives here and nowhere else.

CREATE TABLE concerns (
    id          INTEGER PRIMARY KEY,  -- the number the PT sees: Anliegen #3
    network_id  INTEGER NOT NULL REFERENCES networks(id),
    sender_id   INTEGER REFERENCES people(id),  -- NULL once the sender had their data forgotten
    text        TEXT,
    anonymous   INTEGER,              -- NULL until the sender chose
    status      TEXT NOT NULL CHECK (status IN (
                    'awaiting_text', 'awaiting_choice', 'posting', 'posted', 'cancelled')),
    team_id     INTEGER REFERENCES teams(id),  -- the PT it went to
    created_at  TEXT NOT NULL,
    posted_at   TEXT
);
CREATE INDEX concerns_sender ON concerns(sender_id, status);

-- The messages of a concern's conversation. side 'team': the post in the PT chat and the
-- sender's follow-ups there (a reply to any of them goes to the sender); side 'sender': the
-- answers delivered in the sender's private chat (a reply to one goes to the PT). The private
-- chat's id is the sender's Telegram id, so it is not stored here: people has it, once.
CREATE TABLE concern_messages (
    id          INTEGER PRIMARY KEY,
    concern_id  INTEGER NOT NULL REFERENCES concerns(id),
    side        TEXT NOT NULL CHECK (side IN ('team', 'sender')),
    chat_id     INTEGER,              -- the PT chat (side 'team'); NULL for the private chat
    message_id  INTEGER NOT NULL,
    author_id   INTEGER REFERENCES people(id),  -- the PT member whose answer it carries
    at          TEXT NOT NULL
);
CREATE UNIQUE INDEX concern_messages_team ON concern_messages(chat_id, message_id)
    WHERE side = 'team';
CREATE INDEX concern_messages_sender ON concern_messages(concern_id, side, message_id);
