-- Link tokens (PostgreSQL): each worker's consent to link a platform account to their identity is
-- used once. A row is written in the transaction that stores the `account_linked` event the token
-- came with; a second event with the same token finds it and is refused. Rows whose token has
-- expired may be pruned: an expired token is refused before this table is read.
-- Append-only: never edit a migration that has shipped. Times are unix seconds.
CREATE TABLE link_token_uses (
    link_key    BYTEA NOT NULL,         -- 32 bytes: the identity's Ed25519 link key
    nonce       BYTEA NOT NULL,         -- 16 bytes: the token's nonce
    platform_id BIGINT NOT NULL,     -- the platform that linked
    expires_at  BIGINT NOT NULL,     -- the token's expiry
    used_at     BIGINT NOT NULL,
    PRIMARY KEY (link_key, nonce)
);
CREATE INDEX link_token_uses_expiry ON link_token_uses (expires_at);
