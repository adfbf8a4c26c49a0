-- Node-held (custodial) identities (PostgreSQL): the identity secret of a worker who has no device or
-- wallet of their own, sealed with the node's sealing key, so that the node can prove for them.
-- Append-only: never edit a migration that has shipped. Times are unix seconds.

-- `sealed` is nonce (24 bytes) || XChaCha20-Poly1305 ciphertext || tag (16 bytes), with the
-- commitment in the associated data: a sealed secret moved to another row does not open.
CREATE TABLE custodial_identities (
    commitment BYTEA PRIMARY KEY,    -- 32 bytes big-endian: Poseidon(secret)
    sealed     BYTEA NOT NULL,       -- nonce || ciphertext || tag
    created_by TEXT NOT NULL,        -- `platform:<id>` or `admin:<key id>`
    label      TEXT NOT NULL,        -- free text from the creator, possibly empty
    created_at BIGINT NOT NULL
);
