-- What the outbox knows of the people its rows are about, and invite links as outbox rows.

-- The one person a queued row exists for (a petition's post: its sender; an invite link: the
-- person invited): if they are forgotten before it goes out, it is not sent at all. The people
-- a row names are in `person_ids` (018); /forgetme finds the rows by these ids.
ALTER TABLE outbox ADD COLUMN subject_id INTEGER;
CREATE INDEX outbox_subject ON outbox (subject_id)
    WHERE subject_id IS NOT NULL AND status = 'queued';

-- Invitations whose link could not be made yet were retried from their own table; the link
-- is an outbox row now (an action: outside the group budget, retried until Telegram made it).
-- Written exactly as the outbox writes such a row (bot.flows.posting.encode), so that the
-- index of one waiting post (018) knows it.
INSERT INTO outbox (chat_id, priority, kind, message, on_posted, subject_id, budget, created_at)
SELECT t.chat_id, -1, 'invite_link', '{"name": "wiq-' || i.id || '"}',
       '{"invitation_id": ' || i.id || ', "type": "InviteLinkMade"}', i.person_id, 0,
       i.created_at
FROM invitations i JOIN teams t ON t.id = i.team_id
WHERE i.link IS NULL AND i.used_at IS NULL;
