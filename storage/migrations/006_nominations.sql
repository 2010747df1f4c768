-- UT/KT nominations: one joint candidate, two linked decisions (PT and ST), the candidate's
-- own yes; appointed exactly once when all three are there.

CREATE TABLE nominations (
    id                  INTEGER PRIMARY KEY,
    network_id          INTEGER NOT NULL REFERENCES networks(id),
    target_kind         TEXT NOT NULL CHECK (target_kind IN ('UT', 'KT')),
    candidate_id        INTEGER REFERENCES people(id),
    candidate_username  TEXT,       -- named by an @username the bot had not seen yet
    token               TEXT NOT NULL UNIQUE,  -- the deep link that opens the acceptance
    nominated_by        INTEGER REFERENCES people(id),
    pt_proposal_id      INTEGER REFERENCES proposals(id),
    st_proposal_id      INTEGER REFERENCES proposals(id),
    pt_outcome          TEXT,
    st_outcome          TEXT,
    both_approved_at    TEXT,
    accepted_at         TEXT,
    status              TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'appointed', 'rejected', 'declined', 'lapsed')),
    created_at          TEXT NOT NULL,
    closed_at           TEXT
);
CREATE INDEX nominations_open ON nominations(status);
