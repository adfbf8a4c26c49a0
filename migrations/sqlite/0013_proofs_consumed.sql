-- JejakProofVerifier's ProofConsumed events: which proof (nullifier) a consumer used on chain,
-- for which context, against which root and minimums. Keyed and rolled back like every event table.
CREATE TABLE chain_proofs_consumed (
    chain_id     BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    block_hash   BLOB NOT NULL,
    log_index    BIGINT NOT NULL,
    tx_hash      BLOB NOT NULL,
    contract     BLOB NOT NULL,
    nullifier    BLOB NOT NULL,
    context      BLOB NOT NULL,
    consumer     BLOB NOT NULL,
    epoch        BIGINT NOT NULL,
    root         BLOB NOT NULL,
    -- uint64 values kept whole as decimal text (as chain_roots.expires_at).
    min_score    TEXT NOT NULL,
    min_gigs     TEXT NOT NULL,
    min_tier     TEXT NOT NULL,
    challenge    BLOB NOT NULL,
    PRIMARY KEY (chain_id, block_hash, log_index)
);
CREATE INDEX chain_proofs_consumed_nullifier ON chain_proofs_consumed (chain_id, nullifier);
CREATE INDEX chain_proofs_consumed_block ON chain_proofs_consumed (chain_id, block_number);
