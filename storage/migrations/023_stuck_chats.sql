-- The chats whose outbox queue is stuck and whose network admins were told so (once per
-- stuck episode, bot/flows/stuck.py): a row while the episode lasts, removed when it ends.
CREATE TABLE stuck_chats (
    chat_id  INTEGER PRIMARY KEY,
    since    TEXT NOT NULL,   -- when the oldest queued item of the episode was queued
    told_at  TEXT NOT NULL
);
