-- Every transaction the node's sender signed, before it is broadcast: what it is for
-- (`purpose`, e.g. `batch:12`), its nonce, fees and signed bytes. Any instance reconciles a
-- purpose by these hashes and this nonce before it sends anything again: a transaction that may
-- have reached the chain is looked up, rebroadcast as it was, or replaced with a higher fee under
-- the same nonce, so that at most one transaction per purpose can land.
CREATE TABLE chain_sends (
    tx_hash BYTEA PRIMARY KEY,
    chain_id BIGINT NOT NULL,
    sender BYTEA NOT NULL,
    nonce BIGINT NOT NULL,
    purpose TEXT NOT NULL,
    to_address BYTEA NOT NULL,
    input BYTEA NOT NULL,
    gas_limit BIGINT NOT NULL,
    max_fee_per_gas BIGINT NOT NULL,
    max_priority_fee_per_gas BIGINT NOT NULL,
    raw BYTEA NOT NULL,
    -- open: may still land; mined: it landed; closed: it never can (its nonce went to another)
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX chain_sends_by_purpose ON chain_sends (chain_id, sender, purpose, status);
