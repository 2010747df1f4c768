-- What followed a close is remembered, so that a restart finishes what a crash interrupted:
-- a result not yet posted is posted, a Beschluss's consequences are carried out.

ALTER TABLE rounds ADD COLUMN announced_at TEXT;
ALTER TABLE votes ADD COLUMN announced_at TEXT;
ALTER TABLE proposals ADD COLUMN effects_done_at TEXT;
