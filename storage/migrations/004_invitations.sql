-- Invite links made for one person each (they create join requests the bot approves for
-- that person only), and LT settings decided by the LT.

CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY,
    network_id  INTEGER NOT NULL REFERENCES networks(id),
    team_id     INTEGER NOT NULL REFERENCES teams(id),
    person_id   INTEGER NOT NULL REFERENCES people(id),
    link        TEXT,
    created_at  TEXT NOT NULL,
    delivered_at TEXT,
    used_at     TEXT
);
CREATE INDEX invitations_link ON invitations(link);
CREATE INDEX invitations_person ON invitations(person_id);
