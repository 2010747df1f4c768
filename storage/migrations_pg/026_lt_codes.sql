-- PostgreSQL's 026 (storage/migrations/026_lt_codes.sql): LT codes and the /setup that waits
-- for an admin's choice of network.
CREATE TABLE lt_codes (
    id          BIGINT PRIMARY KEY,
    network_id  BIGINT NOT NULL REFERENCES networks(id),
    code_hash   TEXT NOT NULL UNIQUE,
    issued_at   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    chat_id     BIGINT,
    used_at     TEXT,
    team_id     BIGINT REFERENCES teams(id)
);
CREATE INDEX lt_codes_chat ON lt_codes (chat_id) WHERE chat_id IS NOT NULL;
CREATE TRIGGER lt_codes_next_id BEFORE INSERT ON lt_codes FOR EACH ROW EXECUTE FUNCTION next_id();

CREATE TABLE setup_waits (
    chat_id      BIGINT NOT NULL,
    telegram_id  BIGINT NOT NULL,
    waiting      TEXT NOT NULL,
    asked_at     TEXT NOT NULL,
    PRIMARY KEY (chat_id, telegram_id)
);
