-- The PostgreSQL baseline: the schema that SQLite's migrations 001 to 024 build, in one file
-- (PostgreSQL starts here; the historic steps are not replayed). From 025 on, every migration
-- comes in both dialects under the same number (docs/architecture.md, "Two backends").
--
-- Translated as: INTEGER -> BIGINT (Telegram's ids pass 2^31), REAL -> DOUBLE PRECISION, BLOB -> BYTEA; times stay the fixed-width
-- UTC text SQLite holds (storage.db.to_db), JSON stays text. What SQLite does by itself is
-- made here: its NOCASE collation, instr(), vote_polls' rowid, an `id INTEGER PRIMARY KEY`'s
-- numbering, and the triggers that write the record and keep it append-only.

-- Case-insensitive comparison for `username = ? COLLATE NOCASE` (unquoted, NOCASE is nocase).
CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

-- SQLite numbers a row whose `id INTEGER PRIMARY KEY` is not given as the highest so far plus
-- one, and a number a rolled-back unit took is given again: the #12 people type has no gaps.
-- A sequence would skip the numbers of rolled-back units; this trigger (on every table with
-- an `id`, below) numbers as SQLite does.
CREATE FUNCTION next_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        EXECUTE format('SELECT COALESCE(MAX(id), 0) + 1 FROM %I', TG_TABLE_NAME) INTO NEW.id;
    END IF;
    RETURN NEW;
END;
$$;

-- SQLite's instr(haystack, needle): where needle starts in haystack, from 1; 0 if nowhere.
CREATE FUNCTION instr(haystack TEXT, needle TEXT) RETURNS INTEGER
    LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT strpos(haystack, needle) $$;

CREATE TABLE networks (
    id          BIGINT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);
CREATE TABLE people (
    id             BIGINT PRIMARY KEY,
    network_id     BIGINT NOT NULL REFERENCES networks(id),
    telegram_id    BIGINT,
    first_name     TEXT,
    last_name      TEXT,
    username       TEXT,
    language_code  TEXT,
    pseudonym      TEXT NOT NULL,
    started_bot    BIGINT NOT NULL DEFAULT 0,
    first_seen_at  TEXT NOT NULL,
    last_seen_at   TEXT NOT NULL,
    forgotten_at   TEXT
);
CREATE TABLE teams (
    id                BIGINT PRIMARY KEY,
    network_id        BIGINT NOT NULL REFERENCES networks(id),
    kind              TEXT NOT NULL CHECK (kind IN ('PT', 'ST', 'KT', 'UT', 'LT', 'NET')),
    name              TEXT NOT NULL,
    chat_id           BIGINT NOT NULL,
    chat_type         TEXT NOT NULL,
    roster_mode       TEXT NOT NULL CHECK (roster_mode IN ('chat', 'explicit')),
    policy_overrides  TEXT NOT NULL DEFAULT '{}',
    bot_is_admin      BIGINT NOT NULL DEFAULT 1,
    bound_by          BIGINT REFERENCES people(id),
    bound_at          TEXT NOT NULL,
    -- set by the first decision; ends the set-up phase in which admins /admit directly
    first_decision_at TEXT
);
CREATE TABLE roster_entries (
    id           BIGINT PRIMARY KEY,
    network_id   BIGINT NOT NULL REFERENCES networks(id),
    team_id      BIGINT NOT NULL REFERENCES teams(id),
    person_id    BIGINT NOT NULL REFERENCES people(id),
    joined_at    TEXT NOT NULL,
    joined_how   TEXT NOT NULL,
    joined_by    BIGINT REFERENCES people(id),
    seat         TEXT CHECK (seat IN ('politik', 'verwaltung', 'zivilgesellschaft', 'ut')),
    body         TEXT,
    left_at      TEXT,
    left_how     TEXT,
    left_by      BIGINT REFERENCES people(id),
    left_reason  TEXT
);
CREATE TABLE events (
    id          BIGINT PRIMARY KEY,
    network_id  BIGINT NOT NULL REFERENCES networks(id),
    team_id     BIGINT REFERENCES teams(id),
    at          TEXT NOT NULL,
    actor_id    BIGINT REFERENCES people(id),
    kind        TEXT NOT NULL,
    subject_id  BIGINT REFERENCES people(id),
    data        TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE proposals (
    id                  BIGINT PRIMARY KEY,  -- the short number people type: #12
    network_id          BIGINT NOT NULL REFERENCES networks(id),
    team_id             BIGINT NOT NULL REFERENCES teams(id),
    kind                TEXT NOT NULL,
    proposer_id         BIGINT REFERENCES people(id),
    subject_id          BIGINT REFERENCES people(id),
    title               TEXT NOT NULL,
    text                TEXT NOT NULL,
    policy              TEXT NOT NULL,        -- the policy it started under (JSON)
    status              TEXT NOT NULL,
    round_length_s      BIGINT NOT NULL,
    round_number        BIGINT NOT NULL DEFAULT 0,
    failed_rounds       BIGINT NOT NULL DEFAULT 0,
    any_objection_ever  BIGINT NOT NULL DEFAULT 0,
    revision_until      TEXT,
    outcome             TEXT,
    created_at          TEXT NOT NULL,
    closed_at           TEXT,
    full_text_chat_id   BIGINT,
    full_text_message_id BIGINT,
    payload             TEXT NOT NULL DEFAULT '{}'
, effects_done_at TEXT, due_at TEXT);
CREATE TABLE rounds (
    id               BIGINT PRIMARY KEY,
    proposal_id      BIGINT NOT NULL REFERENCES proposals(id),
    number           BIGINT NOT NULL,
    text             TEXT NOT NULL,
    opened_at        TEXT NOT NULL,
    deadline         TEXT NOT NULL,
    closed_at        TEXT,
    outcome          TEXT,
    card_chat_id     BIGINT,
    card_message_id  BIGINT,
    reminder_sent_at TEXT, announced_at TEXT, result_chat_id BIGINT, result_message_id BIGINT, result_next_step TEXT, remind_at TEXT, early_close_at TEXT, early_close_after BIGINT,
    UNIQUE (proposal_id, number)
);
CREATE TABLE round_electorate (
    round_id   BIGINT NOT NULL REFERENCES rounds(id),
    person_id  BIGINT NOT NULL REFERENCES people(id),
    joined_at  TEXT NOT NULL,
    left_at    TEXT,
    PRIMARY KEY (round_id, person_id)
);
CREATE TABLE carried_objections (
    round_id      BIGINT NOT NULL REFERENCES rounds(id),
    person_id     BIGINT NOT NULL REFERENCES people(id),
    reason        TEXT,
    first_round   BIGINT NOT NULL,
    PRIMARY KEY (round_id, person_id)
);
CREATE TABLE responses (
    round_id   BIGINT NOT NULL REFERENCES rounds(id),
    person_id  BIGINT NOT NULL REFERENCES people(id),
    choice     TEXT NOT NULL CHECK (choice IN ('agree', 'concern', 'abstain', 'object')),
    reason     TEXT,
    update_id  BIGINT NOT NULL,  -- an older press never overwrites a newer one
    at         TEXT NOT NULL, reason_at TEXT,
    PRIMARY KEY (round_id, person_id)
);
CREATE TABLE reason_requests (
    person_id  BIGINT NOT NULL REFERENCES people(id),
    round_id   BIGINT NOT NULL REFERENCES rounds(id),
    asked_at   TEXT NOT NULL,
    PRIMARY KEY (person_id, round_id)
);
CREATE TABLE votes (
    id           BIGINT PRIMARY KEY,
    proposal_id  BIGINT NOT NULL UNIQUE REFERENCES proposals(id),
    opened_at    TEXT NOT NULL,
    deadline     TEXT NOT NULL,
    closed_at    TEXT,
    outcome      TEXT,
    yes          BIGINT,
    no           BIGINT,
    abstain      BIGINT,
    ignored      BIGINT,
    reminder_sent_at TEXT
, announced_at TEXT, remind_at TEXT, early_close_at TEXT, early_close_after BIGINT, card_chat_id BIGINT, card_message_id BIGINT);
CREATE TABLE vote_polls (
    poll_id     TEXT PRIMARY KEY,
    -- SQLite's implicit rowid, which "ORDER BY rowid" reads: the order they were posted in
    rowid       BIGINT GENERATED BY DEFAULT AS IDENTITY,
    vote_id     BIGINT NOT NULL REFERENCES votes(id),
    chat_id     BIGINT NOT NULL,
    message_id  BIGINT NOT NULL,
    active      BIGINT NOT NULL DEFAULT 1
);
CREATE TABLE vote_electorate (
    vote_id    BIGINT NOT NULL REFERENCES votes(id),
    person_id  BIGINT NOT NULL REFERENCES people(id),
    joined_at  TEXT NOT NULL,
    left_at    TEXT,
    PRIMARY KEY (vote_id, person_id)
);
CREATE TABLE ballots (
    vote_id    BIGINT NOT NULL REFERENCES votes(id),
    person_id  BIGINT NOT NULL REFERENCES people(id),
    choice     TEXT CHECK (choice IN ('yes', 'no', 'abstain')),  -- NULL: retracted
    update_id  BIGINT NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (vote_id, person_id)
);
CREATE TABLE invitations (
    id          BIGINT PRIMARY KEY,
    network_id  BIGINT NOT NULL REFERENCES networks(id),
    team_id     BIGINT NOT NULL REFERENCES teams(id),
    person_id   BIGINT NOT NULL REFERENCES people(id),
    link        TEXT,
    created_at  TEXT NOT NULL,
    delivered_at TEXT,
    used_at     TEXT
);
CREATE TABLE nominations (
    id                  BIGINT PRIMARY KEY,
    network_id          BIGINT NOT NULL REFERENCES networks(id),
    target_kind         TEXT NOT NULL CHECK (target_kind IN ('UT', 'KT')),
    candidate_id        BIGINT REFERENCES people(id),
    candidate_username  TEXT,       -- named by an @username the bot had not seen yet
    token               TEXT NOT NULL UNIQUE,  -- the deep link that opens the acceptance
    nominated_by        BIGINT REFERENCES people(id),
    pt_proposal_id      BIGINT REFERENCES proposals(id),
    st_proposal_id      BIGINT REFERENCES proposals(id),
    pt_outcome          TEXT,
    st_outcome          TEXT,
    both_approved_at    TEXT,
    accepted_at         TEXT,
    status              TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'appointed', 'rejected', 'declined', 'lapsed')),
    created_at          TEXT NOT NULL,
    closed_at           TEXT
);
CREATE TABLE delegations (
    id             BIGINT PRIMARY KEY,
    network_id     BIGINT NOT NULL REFERENCES networks(id),
    person_id      BIGINT REFERENCES people(id),
    username       TEXT,          -- an @username the bot had not seen yet
    seat           TEXT NOT NULL CHECK (seat IN ('politik', 'verwaltung')),
    body           TEXT NOT NULL,
    token          TEXT NOT NULL UNIQUE,
    recorded_by    BIGINT REFERENCES people(id),
    status         TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'confirmed', 'declined')),
    created_at     TEXT NOT NULL,
    closed_at      TEXT
);
CREATE TABLE elections (
    id              BIGINT PRIMARY KEY,
    network_id      BIGINT NOT NULL REFERENCES networks(id),
    team_id         BIGINT NOT NULL REFERENCES teams(id),
    seats           BIGINT NOT NULL CHECK (seats >= 1),
    called_by       BIGINT REFERENCES people(id),
    status          TEXT NOT NULL DEFAULT 'asking'
        CHECK (status IN ('asking', 'voting', 'closed')),
    stand_until     TEXT NOT NULL,
    deadline        TEXT,          -- the caller's DEADLINE, if one was given
    vote_deadline   TEXT,
    poll_id         TEXT,
    poll_chat_id    BIGINT,
    poll_message_id BIGINT,
    result          TEXT,
    created_at      TEXT NOT NULL,
    closed_at       TEXT
, counting_at TEXT, reminder_sent_at TEXT, remind_at TEXT);
CREATE TABLE election_candidates (
    election_id  BIGINT NOT NULL REFERENCES elections(id),
    position     BIGINT NOT NULL,
    person_id    BIGINT REFERENCES people(id),
    username     TEXT,
    token        TEXT NOT NULL UNIQUE,
    status       TEXT NOT NULL DEFAULT 'asked' CHECK (status IN ('asked', 'standing', 'declined')),
    option_index BIGINT,          -- its place in the poll, once the poll is out
    PRIMARY KEY (election_id, position)
);
CREATE TABLE election_electorate (
    election_id  BIGINT NOT NULL REFERENCES elections(id),
    person_id    BIGINT NOT NULL REFERENCES people(id),
    PRIMARY KEY (election_id, person_id)
);
CREATE TABLE election_ballots (
    election_id  BIGINT NOT NULL REFERENCES elections(id),
    person_id    BIGINT NOT NULL REFERENCES people(id),
    options      TEXT NOT NULL,   -- JSON list of poll option indexes; [] = retracted
    update_id    BIGINT NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (election_id, person_id)
);
CREATE TABLE digest_slots (
    network_id   BIGINT NOT NULL REFERENCES networks(id),
    slot         TEXT NOT NULL,   -- the scheduled moment (UTC)
    started_at   TEXT NOT NULL,
    PRIMARY KEY (network_id, slot)
);
CREATE TABLE digest_deliveries (
    network_id   BIGINT NOT NULL REFERENCES networks(id),
    slot         TEXT NOT NULL,
    target       TEXT NOT NULL,   -- 'team' (its weekly digest), 'network' or 'public'
    chat_id      BIGINT NOT NULL,
    team_id      BIGINT REFERENCES teams(id),
    claimed_at   TEXT NOT NULL,
    sent_at      TEXT,
    PRIMARY KEY (network_id, slot, chat_id)
);
CREATE TABLE petitions (
    id          BIGINT PRIMARY KEY,  -- the number the PT sees: Anliegen #3
    network_id  BIGINT NOT NULL REFERENCES networks(id),
    sender_id   BIGINT REFERENCES people(id),  -- NULL once the sender had their data forgotten
    text        TEXT,
    anonymous   BIGINT,              -- NULL until the sender chose
    status      TEXT NOT NULL CHECK (status IN (
                    'awaiting_text', 'awaiting_choice', 'posting', 'posted', 'cancelled')),
    team_id     BIGINT REFERENCES teams(id),  -- the PT it went to
    created_at  TEXT NOT NULL,
    posted_at   TEXT
);
CREATE TABLE petition_messages (
    id          BIGINT PRIMARY KEY,
    petition_id  BIGINT NOT NULL REFERENCES petitions(id),
    side        TEXT NOT NULL CHECK (side IN ('team', 'sender')),
    chat_id     BIGINT,              -- the PT chat (side 'team'); NULL for the private chat
    message_id  BIGINT NOT NULL,
    author_id   BIGINT REFERENCES people(id),  -- the PT member whose answer it carries
    at          TEXT NOT NULL
);
CREATE TABLE inbox (
    update_id BIGINT PRIMARY KEY,
    payload TEXT,                  -- the update as Telegram sent it (JSON); NULL once handled
    received_at TEXT NOT NULL,
    deliveries BIGINT NOT NULL DEFAULT 1,  -- how often a getUpdates answer brought it
    handled_at TEXT
);
CREATE TABLE outbox (
    id BIGINT PRIMARY KEY,
    chat_id BIGINT NOT NULL,
    priority BIGINT NOT NULL,        -- lower goes first (bot.flows.port.Priority)
    kind TEXT NOT NULL,               -- text, document, edit, poll, stop_poll, deferred (a card
                                      -- edit or reminder, rendered when sent); attempt (below)
    message TEXT NOT NULL,            -- the port's values as JSON (text, keyboard, poll, …)
    document BYTEA,                    -- a document's bytes
    coalesce_key TEXT,                -- card edits: one queued edit per message
    on_posted TEXT,                   -- what to record once posted (bot.flows.posting)
    person_ids TEXT NOT NULL DEFAULT '[]',  -- the people (internal ids) it names
    budget BIGINT NOT NULL,          -- 1: spends the group's budget
    status TEXT NOT NULL DEFAULT 'queued',  -- queued, sending, sent, failed, dropped; ambiguous:
                                      -- an attempt Telegram may have acted on (a network error,
                                      -- a kill), kept as a row of its own that spends the budget
    created_at TEXT NOT NULL,
    sent_at DOUBLE PRECISION,                     -- epoch seconds of the last attempt (counts to the budget)
    attempts BIGINT NOT NULL DEFAULT 0,
    message_id BIGINT,
    poll_id TEXT,
    error TEXT
, subject_id BIGINT);
CREATE TABLE election_polls (
    poll_id     TEXT PRIMARY KEY,
    election_id BIGINT NOT NULL REFERENCES elections(id),
    chat_id     BIGINT NOT NULL,
    message_id  BIGINT NOT NULL
);
CREATE TABLE heartbeats (
    instance    TEXT PRIMARY KEY,  -- host:pid
    host        TEXT NOT NULL,
    pid         BIGINT NOT NULL,
    started_at  TEXT NOT NULL,
    beat_at     TEXT NOT NULL,     -- the heartbeat job last ran: the event loop turns
    telegram_at TEXT,              -- the last getUpdates round trip ended; NULL: none yet
    stopped_at  TEXT               -- a clean stop (SIGTERM)
);
CREATE TABLE stuck_chats (
    chat_id  BIGINT PRIMARY KEY,
    since    TEXT NOT NULL,   -- when the oldest queued item of the episode was queued
    told_at  TEXT NOT NULL
);
CREATE TABLE upgrade_catch_up (
    from_schema BIGINT PRIMARY KEY,  -- the schema the database had before
    noted_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX people_telegram_id ON people(network_id, telegram_id)
    WHERE telegram_id IS NOT NULL;
CREATE INDEX people_username ON people(network_id, username COLLATE nocase);
CREATE UNIQUE INDEX teams_chat ON teams(chat_id);
CREATE UNIQUE INDEX teams_single_kind ON teams(network_id, kind)
    WHERE kind IN ('PT', 'ST', 'KT', 'UT', 'NET');
CREATE UNIQUE INDEX roster_one_open_entry ON roster_entries(team_id, person_id)
    WHERE left_at IS NULL;
CREATE INDEX roster_by_person ON roster_entries(person_id);
CREATE INDEX events_team_at ON events(team_id, at);
CREATE INDEX proposals_team_status ON proposals(team_id, status);
CREATE INDEX rounds_open ON rounds(closed_at, deadline);
CREATE INDEX votes_open ON votes(closed_at, deadline);
CREATE INDEX invitations_link ON invitations(link);
CREATE INDEX invitations_person ON invitations(person_id);
CREATE INDEX nominations_open ON nominations(status);
CREATE INDEX petitions_sender ON petitions(sender_id, status);
CREATE UNIQUE INDEX petition_messages_team ON petition_messages(chat_id, message_id)
    WHERE side = 'team';
CREATE INDEX petition_messages_sender ON petition_messages(petition_id, side, message_id);
CREATE INDEX proposals_due ON proposals(network_id, due_at) WHERE due_at IS NOT NULL;
CREATE INDEX rounds_remind ON rounds(remind_at)
    WHERE reminder_sent_at IS NULL AND closed_at IS NULL;
CREATE INDEX votes_remind ON votes(remind_at)
    WHERE reminder_sent_at IS NULL AND closed_at IS NULL;
CREATE INDEX rounds_without_card ON rounds(id)
    WHERE card_message_id IS NULL AND closed_at IS NULL;
CREATE INDEX vote_polls_vote ON vote_polls(vote_id);
CREATE INDEX rounds_unannounced ON rounds(id)
    WHERE outcome IS NOT NULL AND announced_at IS NULL;
CREATE INDEX votes_unannounced ON votes(id)
    WHERE outcome IS NOT NULL AND announced_at IS NULL;
CREATE INDEX proposals_effects_pending ON proposals(network_id)
    WHERE status = 'closed' AND effects_done_at IS NULL;
CREATE INDEX elections_unfinished ON elections(network_id) WHERE status != 'closed';
CREATE INDEX outbox_waiting ON outbox (chat_id, priority, id)
    WHERE status IN ('queued', 'sending');
CREATE INDEX outbox_budget ON outbox (chat_id, sent_at) WHERE sent_at IS NOT NULL;
CREATE UNIQUE INDEX outbox_coalesced ON outbox (chat_id, coalesce_key)
    WHERE status = 'queued' AND coalesce_key IS NOT NULL;
CREATE UNIQUE INDEX outbox_one_post ON outbox (chat_id, on_posted)
    WHERE status IN ('queued', 'sending') AND on_posted IS NOT NULL;
CREATE INDEX outbox_subject ON outbox (subject_id)
    WHERE subject_id IS NOT NULL AND status = 'queued';
CREATE INDEX election_polls_election ON election_polls (election_id);

-- The record is append-only: no row of it is ever changed or removed (class 23, as a
-- constraint: storage.db.IntegrityError on both backends).
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the record is append-only' USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();

-- Every response and ballot, as given and as changed, is written to the record by the
-- database itself, with the same text as SQLite's json_object writes.
CREATE FUNCTION responses_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (network_id, team_id, at, actor_id, kind, data)
    SELECT p.network_id, p.team_id, NEW.at, NEW.person_id, 'round.response',
           format('{"choice":%s,"round":%s}',
                  COALESCE(to_json(NEW.choice)::text, 'null'), NEW.round_id)
    FROM rounds r JOIN proposals p ON p.id = r.proposal_id WHERE r.id = NEW.round_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER responses_recorded AFTER INSERT ON responses
    FOR EACH ROW EXECUTE FUNCTION responses_recorded();
CREATE TRIGGER responses_changed AFTER UPDATE OF choice, update_id ON responses
    FOR EACH ROW EXECUTE FUNCTION responses_recorded();

CREATE FUNCTION ballots_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (network_id, team_id, at, actor_id, kind, data)
    SELECT p.network_id, p.team_id, NEW.at, NEW.person_id, 'vote.ballot',
           format('{"choice":%s,"vote":%s}',
                  COALESCE(to_json(NEW.choice)::text, 'null'), NEW.vote_id)
    FROM votes v JOIN proposals p ON p.id = v.proposal_id WHERE v.id = NEW.vote_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER ballots_recorded AFTER INSERT ON ballots
    FOR EACH ROW EXECUTE FUNCTION ballots_recorded();
CREATE TRIGGER ballots_changed AFTER UPDATE OF choice, update_id ON ballots
    FOR EACH ROW EXECUTE FUNCTION ballots_recorded();

-- Every table with an `id` is numbered as SQLite numbers it (next_id, above).
CREATE TRIGGER networks_next_id BEFORE INSERT ON networks FOR EACH ROW EXECUTE FUNCTION next_id();
CREATE TRIGGER people_next_id BEFORE INSERT ON people FOR EACH ROW EXECUTE FUNCTION next_id();
CREATE TRIGGER teams_next_id BEFORE INSERT ON teams FOR EACH ROW EXECUTE FUNCTION next_id();
CREATE TRIGGER roster_entries_next_id BEFORE INSERT ON roster_entries FOR EACH ROW EXECUTE FUNCTION next_id();
CREATE TRIGGER events_next_id BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION next_id();
CREATE TRIGGER proposals_next_id BEFORE INSERT ON proposals FOR EACH ROW EXECUTE FUNCTION next_id();
CREATE TRIGGER rounds_next_id BEFORE INSERT ON rounds FOR EACH ROW EXECUTE FUNCTION next_id();
CREATE TRIGGER votes_next_id BEFORE INSERT ON votes FOR EACH ROW EXECUTE FUNCTION next_id();
CREATE TRIGGER invitations_next_id BEFORE INSERT ON invitations FOR EACH ROW EXECUTE FUNCTION next_id();
CREATE TRIGGER nominations_next_id BEFORE INSERT ON nominations FOR EACH ROW EXECUTE FUNCTION next_id();
CREATE TRIGGER delegations_next_id BEFORE INSERT ON delegations FOR EACH ROW EXECUTE FUNCTION next_id();
CREATE TRIGGER elections_next_id BEFORE INSERT ON elections FOR EACH ROW EXECUTE FUNCTION next_id();
CREATE TRIGGER petitions_next_id BEFORE INSERT ON petitions FOR EACH ROW EXECUTE FUNCTION next_id();
CREATE TRIGGER petition_messages_next_id BEFORE INSERT ON petition_messages FOR EACH ROW EXECUTE FUNCTION next_id();
CREATE TRIGGER outbox_next_id BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION next_id();
