-- The transactional outbox: everything the bot sends or edits (but answerCallbackQuery) is a
-- row until Telegram confirmed it. The sender works from here, in priority order, and takes
-- each group's budget from the send times stored here, so a restart neither loses what was to
-- be said nor spends a group's budget twice.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    priority INTEGER NOT NULL,        -- lower goes first (bot.flows.port.Priority)
    kind TEXT NOT NULL,               -- text, document, edit, poll, stop_poll, deferred (a card
                                      -- edit or reminder, rendered when sent); attempt (below)
    message TEXT NOT NULL,            -- the port's values as JSON (text, keyboard, poll, …)
    document BLOB,                    -- a document's bytes
    coalesce_key TEXT,                -- card edits: one queued edit per message
    on_posted TEXT,                   -- what to record once posted (bot.flows.posting)
    person_ids TEXT NOT NULL DEFAULT '[]',  -- the people (internal ids) it names
    budget INTEGER NOT NULL,          -- 1: spends the group's budget
    status TEXT NOT NULL DEFAULT 'queued',  -- queued, sending, sent, failed, dropped; ambiguous:
                                      -- an attempt Telegram may have acted on (a network error,
                                      -- a kill), kept as a row of its own that spends the budget
    created_at TEXT NOT NULL,
    sent_at REAL,                     -- epoch seconds of the last attempt (counts to the budget)
    attempts INTEGER NOT NULL DEFAULT 0,
    message_id INTEGER,
    poll_id TEXT,
    error TEXT
);

CREATE INDEX outbox_waiting ON outbox (chat_id, priority, id)
    WHERE status IN ('queued', 'sending');
CREATE INDEX outbox_budget ON outbox (chat_id, sent_at) WHERE sent_at IS NOT NULL;
-- One queued edit per message: a newer state replaces the waiting one.
CREATE UNIQUE INDEX outbox_coalesced ON outbox (chat_id, coalesce_key)
    WHERE status = 'queued' AND coalesce_key IS NOT NULL;
-- One waiting post of the same thing per chat (a result, a card, a poll): a repair that posts
-- it again while it waits adds nothing.
CREATE UNIQUE INDEX outbox_one_post ON outbox (chat_id, on_posted)
    WHERE status IN ('queued', 'sending') AND on_posted IS NOT NULL;
