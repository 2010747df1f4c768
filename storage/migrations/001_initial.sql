-- Networks, people, teams bound to chats, rosters, and the append-only record.
-- Every row belongs to a network, so one deployment can later serve several.

CREATE TABLE networks (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

-- The only table with names, usernames and Telegram ids (SPEC §1, §8): /forgetme blanks
-- a row here and the record, which refers to people by id, stays as it was.
CREATE TABLE people (
    id             INTEGER PRIMARY KEY,
    network_id     INTEGER NOT NULL REFERENCES networks(id),
    telegram_id    INTEGER,
    first_name     TEXT,
    last_name      TEXT,
    username       TEXT,
    language_code  TEXT,
    pseudonym      TEXT NOT NULL,
    started_bot    INTEGER NOT NULL DEFAULT 0,
    first_seen_at  TEXT NOT NULL,
    last_seen_at   TEXT NOT NULL,
    forgotten_at   TEXT
);
CREATE UNIQUE INDEX people_telegram_id ON people(network_id, telegram_id)
    WHERE telegram_id IS NOT NULL;
CREATE INDEX people_username ON people(network_id, username COLLATE NOCASE);

CREATE TABLE teams (
    id                INTEGER PRIMARY KEY,
    network_id        INTEGER NOT NULL REFERENCES networks(id),
    kind              TEXT NOT NULL CHECK (kind IN ('PT', 'ST', 'KT', 'UT', 'LT', 'NET')),
    name              TEXT NOT NULL,
    chat_id           INTEGER NOT NULL,
    chat_type         TEXT NOT NULL,
    roster_mode       TEXT NOT NULL CHECK (roster_mode IN ('chat', 'explicit')),
    policy_overrides  TEXT NOT NULL DEFAULT '{}',
    bot_is_admin      INTEGER NOT NULL DEFAULT 1,
    bound_by          INTEGER REFERENCES people(id),
    bound_at          TEXT NOT NULL,
    -- set by the first decision; ends the set-up phase in which admins /admit directly
    first_decision_at TEXT
);
CREATE UNIQUE INDEX teams_chat ON teams(chat_id);
CREATE UNIQUE INDEX teams_single_kind ON teams(network_id, kind)
    WHERE kind IN ('PT', 'ST', 'KT', 'UT', 'NET');

CREATE TABLE roster_entries (
    id           INTEGER PRIMARY KEY,
    network_id   INTEGER NOT NULL REFERENCES networks(id),
    team_id      INTEGER NOT NULL REFERENCES teams(id),
    person_id    INTEGER NOT NULL REFERENCES people(id),
    joined_at    TEXT NOT NULL,
    joined_how   TEXT NOT NULL,
    joined_by    INTEGER REFERENCES people(id),
    seat         TEXT CHECK (seat IN ('politik', 'verwaltung', 'zivilgesellschaft', 'ut')),
    body         TEXT,
    left_at      TEXT,
    left_how     TEXT,
    left_by      INTEGER REFERENCES people(id),
    left_reason  TEXT
);
CREATE UNIQUE INDEX roster_one_open_entry ON roster_entries(team_id, person_id)
    WHERE left_at IS NULL;
CREATE INDEX roster_by_person ON roster_entries(person_id);

-- The record: append-only; people appear by internal id, details as JSON without names.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    network_id  INTEGER NOT NULL REFERENCES networks(id),
    team_id     INTEGER REFERENCES teams(id),
    at          TEXT NOT NULL,
    actor_id    INTEGER REFERENCES people(id),
    kind        TEXT NOT NULL,
    subject_id  INTEGER REFERENCES people(id),
    data        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_team_at ON events(team_id, at);

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the record is append-only');
END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the record is append-only');
END;
