-- A reason may come after its round closed, until the proposal is decided (SPEC §3.4): the
-- round's result message is then edited in place, so where it went and the line saying what
-- happens next (which no longer follows from the proposal's state) are kept; a response
-- keeps when its reason came, so that the result can say it was added afterwards.

ALTER TABLE rounds ADD COLUMN result_chat_id INTEGER;
ALTER TABLE rounds ADD COLUMN result_message_id INTEGER;
ALTER TABLE rounds ADD COLUMN result_next_step TEXT;
ALTER TABLE responses ADD COLUMN reason_at TEXT;
