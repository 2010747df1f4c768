-- Elections are reminded before their poll closes, like rounds and votes (at most once).
ALTER TABLE elections ADD COLUMN reminder_sent_at TEXT;
