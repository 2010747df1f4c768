-- Elections of the ST's civil-society seats: candidates asked to stand, a multi-answer poll
-- among the chat's roster, the last valid ballot of each voter counted.

CREATE TABLE elections (
    id              INTEGER PRIMARY KEY,
    network_id      INTEGER NOT NULL REFERENCES networks(id),
    team_id         INTEGER NOT NULL REFERENCES teams(id),
    seats           INTEGER NOT NULL CHECK (seats >= 1),
    called_by       INTEGER REFERENCES people(id),
    status          TEXT NOT NULL DEFAULT 'asking'
        CHECK (status IN ('asking', 'voting', 'closed')),
    stand_until     TEXT NOT NULL,
    deadline        TEXT,          -- the caller's DEADLINE, if one was given
    vote_deadline   TEXT,
    poll_id         TEXT,
    poll_chat_id    INTEGER,
    poll_message_id INTEGER,
    result          TEXT,
    created_at      TEXT NOT NULL,
    closed_at       TEXT
);

CREATE TABLE election_candidates (
    election_id  INTEGER NOT NULL REFERENCES elections(id),
    position     INTEGER NOT NULL,
    person_id    INTEGER REFERENCES people(id),
    username     TEXT,
    token        TEXT NOT NULL UNIQUE,
    status       TEXT NOT NULL DEFAULT 'asked' CHECK (status IN ('asked', 'standing', 'declined')),
    option_index INTEGER,          -- its place in the poll, once the poll is out
    PRIMARY KEY (election_id, position)
);

CREATE TABLE election_electorate (
    election_id  INTEGER NOT NULL REFERENCES elections(id),
    person_id    INTEGER NOT NULL REFERENCES people(id),
    PRIMARY KEY (election_id, person_id)
);

CREATE TABLE election_ballots (
    election_id  INTEGER NOT NULL REFERENCES elections(id),
    person_id    INTEGER NOT NULL REFERENCES people(id),
    options      TEXT NOT NULL,   -- JSON list of poll option indexes; [] = retracted
    update_id    INTEGER NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (election_id, person_id)
);
