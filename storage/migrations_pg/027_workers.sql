-- PostgreSQL's 027 (storage/migrations/027_workers.sql): claims with a lease, and the inbox's
-- person, worker and lease, for several workers on one database.
CREATE TABLE claims (
    kind        TEXT NOT NULL,
    item        BIGINT NOT NULL,
    holder      TEXT NOT NULL,
    lease_until DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (kind, item)
);
ALTER TABLE inbox ADD COLUMN person BIGINT;
ALTER TABLE inbox ADD COLUMN worker TEXT;
ALTER TABLE inbox ADD COLUMN lease_until DOUBLE PRECISION;
CREATE INDEX inbox_person_waiting ON inbox (person, update_id)
    WHERE handled_at IS NULL AND person IS NOT NULL;
CREATE INDEX inbox_leased_waiting ON inbox (lease_until)
    WHERE handled_at IS NULL AND lease_until IS NOT NULL;
