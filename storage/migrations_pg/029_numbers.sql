-- Each network counts its proposals, elections and Anliegen from #1 (SPEC §1 "Nothing
-- crosses networks"): the `number` people see and type (#3, /revise 3), beside the `id` that
-- is the row's across the deployment (buttons, links and the record keep naming the id).
-- What was there keeps the number it was shown with (its id); a new row gets its network's
-- highest number plus one, here, whoever inserts it (every writing transaction takes the
-- write lock first: storage/postgres.py, so two rows never get the same).
ALTER TABLE proposals ADD COLUMN number BIGINT;
ALTER TABLE elections ADD COLUMN number BIGINT;
ALTER TABLE petitions ADD COLUMN number BIGINT;
UPDATE proposals SET number = id;
UPDATE elections SET number = id;
UPDATE petitions SET number = id;
ALTER TABLE proposals ALTER COLUMN number SET NOT NULL;
ALTER TABLE elections ALTER COLUMN number SET NOT NULL;
ALTER TABLE petitions ALTER COLUMN number SET NOT NULL;
CREATE UNIQUE INDEX proposals_number ON proposals(network_id, number);
CREATE UNIQUE INDEX elections_number ON elections(network_id, number);
CREATE UNIQUE INDEX petitions_number ON petitions(network_id, number);
-- What is open, by network and team (/offen, the digests, the sweep): a partial index of the
-- open proposals only, which no history makes longer (the planner took the numbers' index
-- before it, and read every proposal of the network).
CREATE INDEX proposals_open ON proposals(network_id, team_id) WHERE status != 'closed';

CREATE FUNCTION next_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.number IS NULL THEN
        EXECUTE format('SELECT COALESCE(MAX(number), 0) + 1 FROM %I WHERE network_id = $1',
                       TG_TABLE_NAME) INTO NEW.number USING NEW.network_id;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER proposals_next_number BEFORE INSERT ON proposals
    FOR EACH ROW EXECUTE FUNCTION next_number();
CREATE TRIGGER elections_next_number BEFORE INSERT ON elections
    FOR EACH ROW EXECUTE FUNCTION next_number();
CREATE TRIGGER petitions_next_number BEFORE INSERT ON petitions
    FOR EACH ROW EXECUTE FUNCTION next_number();
