-- An election's poll that went out twice (a kill, or a timeout, after Telegram posted it and
-- before the bot marked it sent): the first is the election's (elections.poll_id); a later
-- one is kept here so that answers to it count, and it is stopped.
CREATE TABLE election_polls (
    poll_id     TEXT PRIMARY KEY,
    election_id INTEGER NOT NULL REFERENCES elections(id),
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL
);
CREATE INDEX election_polls_election ON election_polls (election_id);
