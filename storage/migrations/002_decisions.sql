-- Proposals and their course: consensus rounds with responses, majority votes with ballots.
-- Deadlines live here (never only in a scheduler), so a restart re-arms every one of them.

CREATE TABLE proposals (
    id                  INTEGER PRIMARY KEY,  -- the short number people type: #12
    network_id          INTEGER NOT NULL REFERENCES networks(id),
    team_id             INTEGER NOT NULL REFERENCES teams(id),
    kind                TEXT NOT NULL,
    proposer_id         INTEGER REFERENCES people(id),
    subject_id          INTEGER REFERENCES people(id),
    title               TEXT NOT NULL,
    text                TEXT NOT NULL,
    policy              TEXT NOT NULL,        -- the policy it started under (JSON)
    status              TEXT NOT NULL,
    round_length_s      INTEGER NOT NULL,
    round_number        INTEGER NOT NULL DEFAULT 0,
    failed_rounds       INTEGER NOT NULL DEFAULT 0,
    any_objection_ever  INTEGER NOT NULL DEFAULT 0,
    revision_until      TEXT,
    outcome             TEXT,
    created_at          TEXT NOT NULL,
    closed_at           TEXT,
    full_text_chat_id   INTEGER,
    full_text_message_id INTEGER,
    payload             TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX proposals_team_status ON proposals(team_id, status);

CREATE TABLE rounds (
    id               INTEGER PRIMARY KEY,
    proposal_id      INTEGER NOT NULL REFERENCES proposals(id),
    number           INTEGER NOT NULL,
    text             TEXT NOT NULL,
    opened_at        TEXT NOT NULL,
    deadline         TEXT NOT NULL,
    closed_at        TEXT,
    outcome          TEXT,
    card_chat_id     INTEGER,
    card_message_id  INTEGER,
    reminder_sent_at TEXT,
    UNIQUE (proposal_id, number)
);
CREATE INDEX rounds_open ON rounds(closed_at, deadline);

-- Who counts in a round: the roster when it opened; left_at when they left the team meanwhile.
CREATE TABLE round_electorate (
    round_id   INTEGER NOT NULL REFERENCES rounds(id),
    person_id  INTEGER NOT NULL REFERENCES people(id),
    joined_at  TEXT NOT NULL,
    left_at    TEXT,
    PRIMARY KEY (round_id, person_id)
);

-- Objections carried into a round from the one before (besteht until withdrawn).
CREATE TABLE carried_objections (
    round_id      INTEGER NOT NULL REFERENCES rounds(id),
    person_id     INTEGER NOT NULL REFERENCES people(id),
    reason        TEXT,
    first_round   INTEGER NOT NULL,
    PRIMARY KEY (round_id, person_id)
);

-- The last response of each person; every change is in the record (events) too.
CREATE TABLE responses (
    round_id   INTEGER NOT NULL REFERENCES rounds(id),
    person_id  INTEGER NOT NULL REFERENCES people(id),
    choice     TEXT NOT NULL CHECK (choice IN ('agree', 'concern', 'abstain', 'object')),
    reason     TEXT,
    update_id  INTEGER NOT NULL,  -- an older press never overwrites a newer one
    at         TEXT NOT NULL,
    PRIMARY KEY (round_id, person_id)
);

-- A question for a reason (Einwand/Bedenken) that the person has not answered yet.
CREATE TABLE reason_requests (
    person_id  INTEGER NOT NULL REFERENCES people(id),
    round_id   INTEGER NOT NULL REFERENCES rounds(id),
    asked_at   TEXT NOT NULL,
    PRIMARY KEY (person_id, round_id)
);

CREATE TABLE votes (
    id           INTEGER PRIMARY KEY,
    proposal_id  INTEGER NOT NULL UNIQUE REFERENCES proposals(id),
    opened_at    TEXT NOT NULL,
    deadline     TEXT NOT NULL,
    closed_at    TEXT,
    outcome      TEXT,
    yes          INTEGER,
    no           INTEGER,
    abstain      INTEGER,
    ignored      INTEGER,
    reminder_sent_at TEXT
);
CREATE INDEX votes_open ON votes(closed_at, deadline);

-- The native polls of a vote: one, or a fresh one after a supergroup migration.
CREATE TABLE vote_polls (
    poll_id     TEXT PRIMARY KEY,
    vote_id     INTEGER NOT NULL REFERENCES votes(id),
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE vote_electorate (
    vote_id    INTEGER NOT NULL REFERENCES votes(id),
    person_id  INTEGER NOT NULL REFERENCES people(id),
    joined_at  TEXT NOT NULL,
    left_at    TEXT,
    PRIMARY KEY (vote_id, person_id)
);

-- Every answer, from the electorate or not (the result says how many were ignored).
CREATE TABLE ballots (
    vote_id    INTEGER NOT NULL REFERENCES votes(id),
    person_id  INTEGER NOT NULL REFERENCES people(id),
    choice     TEXT CHECK (choice IN ('yes', 'no', 'abstain')),  -- NULL: retracted
    update_id  INTEGER NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (vote_id, person_id)
);
