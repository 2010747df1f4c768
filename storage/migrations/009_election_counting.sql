-- An election being counted takes no more ballots (like a round that is being closed).
ALTER TABLE elections ADD COLUMN counting_at TEXT;
