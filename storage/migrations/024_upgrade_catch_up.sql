-- The one-time catch-up of a database from before the outbox (SPEC §9, bot/flows/upgrade.py).
-- Before 018 the queue of what to post was in memory: what such a database had not posted
-- when its bot stopped (a card, a result, a poll, a petition's post, a claimed digest) is in
-- no outbox row, and is derived once from the state. The migrations that take a database of
-- schema < 018 past 018 note it here (storage/db.py, in the transaction of this migration);
-- the bot's next start does the catch-up and removes the row in the same unit of work. A
-- database created at 018 or later, or migrated past it before, never gets a row.
CREATE TABLE upgrade_catch_up (
    from_schema INTEGER PRIMARY KEY,  -- the schema the database had before
    noted_at    TEXT NOT NULL
);
