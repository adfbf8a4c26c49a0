-- JejakProofVerifier's ProofConsumed events: which proof (nullifier) a consumer used on chain,
-- for which context, against which root and minimums. Keyed and rolled back like every event table.
CREATE TABLE chain_proofs_consumed (
    chain_id     BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    block_hash   BYTEA NOT NULL,
    log_index    BIGINT NOT NULL,
    tx_hash      BYTEA NOT NULL,
    contract     BYTEA NOT NULL,
    nullifier    BYTEA NOT NULL,
    context      BYTEA NOT NULL,
    consumer     BYTEA NOT NULL,
    epoch        BIGINT NOT NULL,
    root         BYTEA NOT NULL,
    -- uint64 values kept whole as decimal text (as chain_roots.expires_at).
    min_score    TEXT NOT NULL,
    min_gigs     TEXT NOT NULL,
    min_tier     TEXT NOT NULL,
    challenge    BYTEA NOT NULL,
    PRIMARY KEY (chain_id, block_hash, log_index)
);
CREATE INDEX chain_proofs_consumed_nullifier ON chain_proofs_consumed (chain_id, nullifier);
CREATE INDEX chain_proofs_consumed_block ON chain_proofs_consumed (chain_id, block_number);
