-- Evidence log proofs without rebuilding the log (SQLite).
-- Append-only: never edit a migration that has shipped.

-- The hash of every complete subtree of the evidence log: the 2^level leaves from idx * 2^level
-- (level 0: the leaves). Written in the transaction that appends the leaf completing it, so any
-- root, inclusion or consistency proof reads O(log n) rows. A log accepted before this table
-- existed is filled in from its leaves when the store opens.
CREATE TABLE evidence_log_nodes (
    level BIGINT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);

-- The public list of anchored heads is paged by checkpoint index, newest first.
CREATE INDEX chain_evidence_checkpoint ON chain_evidence (chain_id, contract, checkpoint);
