-- An early close (everyone has responded) is a due moment in the database, not a close at
-- once: it comes a short grace after the update that completed the electorate, so that the
-- updates of other people that came before it (a changed answer, a retraction, an Einwand
-- still being handled) are counted. early_close_after is that completing update's id: the
-- close also waits while an update older than it is still being handled.
ALTER TABLE rounds ADD COLUMN early_close_at TEXT;
ALTER TABLE rounds ADD COLUMN early_close_after INTEGER;
ALTER TABLE votes ADD COLUMN early_close_at TEXT;
ALTER TABLE votes ADD COLUMN early_close_after INTEGER;
