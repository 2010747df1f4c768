-- An Anliegen is a petition in the code (a Bedenken is a concern): its tables are named so.
-- Only names change; every row, index and reference stays.

ALTER TABLE concerns RENAME TO petitions;
ALTER TABLE concern_messages RENAME TO petition_messages;
ALTER TABLE petition_messages RENAME COLUMN concern_id TO petition_id;

DROP INDEX concerns_sender;
CREATE INDEX petitions_sender ON petitions(sender_id, status);
DROP INDEX concern_messages_team;
CREATE UNIQUE INDEX petition_messages_team ON petition_messages(chat_id, message_id)
    WHERE side = 'team';
DROP INDEX concern_messages_sender;
CREATE INDEX petition_messages_sender ON petition_messages(petition_id, side, message_id);
