-- Reputation and credit (SQLite): epochs the node computed and the score of every identity in them.
-- Append-only: never edit a migration that has shipped. Times are unix seconds; hashes, salts and
-- commitments are 32-byte big-endian words.

-- One row per epoch, moved along as the job publishes it: computed (scores and leaves stored) ->
-- stored (snapshot blocks in the blockstore) -> submitted (publishRoot sent, hash recorded before
-- the broadcast) -> published (mined). `failed` holds an epoch the chain will never accept.
CREATE TABLE score_epochs (
    chain_id       BIGINT NOT NULL,
    epoch          BIGINT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('computed', 'stored', 'submitted', 'published', 'failed')),
    as_of          BIGINT NOT NULL,
    as_of_block    BIGINT NOT NULL,
    params_version BIGINT NOT NULL,
    params_cid     TEXT NOT NULL,
    depth          BIGINT NOT NULL,
    worker_count   BIGINT NOT NULL,
    root           BLOB NOT NULL,
    platforms      TEXT NOT NULL,
    snapshot_cid   TEXT,
    tx_hash        BLOB,
    error          TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (chain_id, epoch)
);
CREATE INDEX score_epochs_status ON score_epochs (chain_id, status, epoch);

-- The score card of each identity in an epoch, with the salt and leaf the worker proves with.
CREATE TABLE worker_scores (
    chain_id    BIGINT NOT NULL,
    epoch       BIGINT NOT NULL,
    commitment  BLOB NOT NULL,
    leaf_index  BIGINT NOT NULL,
    reputation  BIGINT NOT NULL,
    credit      BIGINT NOT NULL,
    tier        TEXT NOT NULL CHECK (tier IN ('A', 'B', 'C', 'D', 'E')),
    gigs        BIGINT NOT NULL,
    salt        BLOB NOT NULL,
    leaf        BLOB NOT NULL,
    card        TEXT NOT NULL,
    PRIMARY KEY (chain_id, epoch, commitment),
    FOREIGN KEY (chain_id, epoch) REFERENCES score_epochs (chain_id, epoch)
);
CREATE UNIQUE INDEX worker_scores_leaf ON worker_scores (chain_id, epoch, leaf_index);
CREATE INDEX worker_scores_commitment ON worker_scores (chain_id, commitment, epoch);
