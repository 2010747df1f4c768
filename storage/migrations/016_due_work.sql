-- Due work in the database, one timer: every moment something falls due is a column with an
-- index, so that "what is due now" and "the next moment" are indexed queries (O(due items),
-- not a scan of everything open), and the bot arms one timer for the next moment.

-- A proposal's next deadline (its round's, its revision window's end, its vote's; NULL once
-- it is closed): written with every step by the one guarded write (Proposals.transition),
-- from the charter's ProposalState.next_deadline. A claimed round without an outcome (a
-- close a stop interrupted) keeps its deadline due, so that the close is finished.
ALTER TABLE proposals ADD COLUMN due_at TEXT;
UPDATE proposals SET due_at = CASE status
    WHEN 'round_open' THEN (SELECT r.deadline FROM rounds r WHERE r.proposal_id = proposals.id
        AND r.number = proposals.round_number AND r.outcome IS NULL)
    WHEN 'awaiting_revision' THEN revision_until
    WHEN 'vote_open' THEN (SELECT v.deadline FROM votes v WHERE v.proposal_id = proposals.id
        AND v.outcome IS NULL)
    END
WHERE status != 'closed';
CREATE INDEX proposals_due ON proposals(network_id, due_at) WHERE due_at IS NOT NULL;

-- When a round's, vote's or election's reminder is next to be looked at: written when it opens
-- (bot.charter.schedule.reminder_at; NULL: no reminder). Rows opened before this migration
-- are looked at once at the next start (remind_at = their opening), which works out their
-- moment from their policy and stores it.
ALTER TABLE rounds ADD COLUMN remind_at TEXT;
ALTER TABLE votes ADD COLUMN remind_at TEXT;
ALTER TABLE elections ADD COLUMN remind_at TEXT;
UPDATE rounds SET remind_at = opened_at WHERE closed_at IS NULL AND reminder_sent_at IS NULL;
UPDATE votes SET remind_at = opened_at WHERE closed_at IS NULL AND reminder_sent_at IS NULL;
UPDATE elections SET remind_at = created_at
    WHERE status = 'voting' AND counting_at IS NULL AND reminder_sent_at IS NULL;
CREATE INDEX rounds_remind ON rounds(remind_at)
    WHERE reminder_sent_at IS NULL AND closed_at IS NULL;
CREATE INDEX votes_remind ON votes(remind_at)
    WHERE reminder_sent_at IS NULL AND closed_at IS NULL;

-- A card or poll that never went out (the start-up repair looks for these only).
CREATE INDEX rounds_without_card ON rounds(id)
    WHERE card_message_id IS NULL AND closed_at IS NULL;
CREATE INDEX vote_polls_vote ON vote_polls(vote_id);
-- Results not yet announced, effects not yet carried out (the start-up repair).
CREATE INDEX rounds_unannounced ON rounds(id)
    WHERE outcome IS NOT NULL AND announced_at IS NULL;
CREATE INDEX votes_unannounced ON votes(id)
    WHERE outcome IS NOT NULL AND announced_at IS NULL;
CREATE INDEX proposals_effects_pending ON proposals(network_id)
    WHERE status = 'closed' AND effects_done_at IS NULL;
-- Elections and nominations that are not finished (few; their moments are read from them).
CREATE INDEX elections_unfinished ON elections(network_id) WHERE status != 'closed';
