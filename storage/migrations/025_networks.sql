-- Several networks in one deployment (SPEC §1). Every row already carries its network; what
-- the bot is to say now does too, so that what it records and renders when it goes out is
-- the right network's. Rows queued before this belong to the deployment's first network.
ALTER TABLE outbox ADD COLUMN network_id INTEGER REFERENCES networks(id);
UPDATE outbox SET network_id = (SELECT MIN(id) FROM networks) WHERE network_id IS NULL;

-- The network a person's private chat serves when nothing in a message names one and they
-- belong to several (or none): the one they chose last with the bot's buttons; and the
-- message that waits for that choice (it runs once they chose; /forgetme drops it).
CREATE TABLE private_networks (
    telegram_id  INTEGER PRIMARY KEY,
    network_id   INTEGER REFERENCES networks(id),
    chosen_at    TEXT,
    waiting      TEXT,   -- the update (JSON) that asked for the choice
    asked_at     TEXT
);
