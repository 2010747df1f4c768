-- Delegations into the ST: a body outside the network decided; the bot records it once the
-- delegate has confirmed (politik, verwaltung). The UT seat is a PT decision (a proposal).

CREATE TABLE delegations (
    id             INTEGER PRIMARY KEY,
    network_id     INTEGER NOT NULL REFERENCES networks(id),
    person_id      INTEGER REFERENCES people(id),
    username       TEXT,          -- an @username the bot had not seen yet
    seat           TEXT NOT NULL CHECK (seat IN ('politik', 'verwaltung')),
    body           TEXT NOT NULL,
    token          TEXT NOT NULL UNIQUE,
    recorded_by    INTEGER REFERENCES people(id),
    status         TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'confirmed', 'declined')),
    created_at     TEXT NOT NULL,
    closed_at      TEXT
);
