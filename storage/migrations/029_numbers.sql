-- Each network counts its proposals, elections and Anliegen from #1 (SPEC §1 "Nothing
-- crosses networks"): the `number` people see and type (#3, /revise 3), beside the `id` that
-- is the row's across the deployment (buttons, links and the record keep naming the id).
-- What was there keeps the number it was shown with (its id); a new row gets its network's
-- highest number plus one, here, whoever inserts it (the writers take turns on both
-- backends, so two rows never get the same).
ALTER TABLE proposals ADD COLUMN number INTEGER;
ALTER TABLE elections ADD COLUMN number INTEGER;
ALTER TABLE petitions ADD COLUMN number INTEGER;
UPDATE proposals SET number = id;
UPDATE elections SET number = id;
UPDATE petitions SET number = id;
CREATE UNIQUE INDEX proposals_number ON proposals(network_id, number);
CREATE UNIQUE INDEX elections_number ON elections(network_id, number);
CREATE UNIQUE INDEX petitions_number ON petitions(network_id, number);
-- What is open, by network and team (/offen, the digests, the sweep): a partial index of the
-- open proposals only, which no history makes longer (the planner took the numbers' index
-- before it, and read every proposal of the network).
CREATE INDEX proposals_open ON proposals(network_id, team_id) WHERE status != 'closed';

CREATE TRIGGER proposals_numbered AFTER INSERT ON proposals WHEN NEW.number IS NULL
BEGIN
    UPDATE proposals SET number = (
        SELECT COALESCE(MAX(number), 0) + 1 FROM proposals WHERE network_id = NEW.network_id
    ) WHERE id = NEW.id;
END;
CREATE TRIGGER elections_numbered AFTER INSERT ON elections WHEN NEW.number IS NULL
BEGIN
    UPDATE elections SET number = (
        SELECT COALESCE(MAX(number), 0) + 1 FROM elections WHERE network_id = NEW.network_id
    ) WHERE id = NEW.id;
END;
CREATE TRIGGER petitions_numbered AFTER INSERT ON petitions WHEN NEW.number IS NULL
BEGIN
    UPDATE petitions SET number = (
        SELECT COALESCE(MAX(number), 0) + 1 FROM petitions WHERE network_id = NEW.network_id
    ) WHERE id = NEW.id;
END;
