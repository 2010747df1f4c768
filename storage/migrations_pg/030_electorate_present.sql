-- PostgreSQL's 030 (storage/migrations/030_electorate_present.sql): an index that alone
-- answers the count of a round's present members, asked after every press.
CREATE INDEX round_electorate_present ON round_electorate (round_id, left_at, person_id);
