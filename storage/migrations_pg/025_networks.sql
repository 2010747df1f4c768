-- PostgreSQL's 025 (storage/migrations/025_networks.sql): several networks in one deployment.
ALTER TABLE outbox ADD COLUMN network_id BIGINT REFERENCES networks(id);
UPDATE outbox SET network_id = (SELECT MIN(id) FROM networks) WHERE network_id IS NULL;

CREATE TABLE private_networks (
    telegram_id  BIGINT PRIMARY KEY,
    network_id   BIGINT REFERENCES networks(id),
    chosen_at    TEXT,
    waiting      TEXT,
    asked_at     TEXT
);
