-- jejak schema v1 (SQLite). Append-only: never edit a migration that has shipped.
-- Times are unix seconds; hashes, salts, addresses are raw bytes.

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    secret_hash BLOB NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'platform', 'worker', 'auditor')),
    platform_id BIGINT,
    worker_id   TEXT,
    label       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- Accepted work events with their salted leaves. `seq` orders them for batching.
CREATE TABLE attestations (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    platform_id  BIGINT NOT NULL,
    event_type   TEXT NOT NULL,
    event_id     TEXT,
    worker_ref   TEXT NOT NULL,
    occurred_at  BIGINT NOT NULL,
    received_at  BIGINT NOT NULL,
    body         TEXT NOT NULL,
    event_digest BLOB NOT NULL,
    salt         BLOB NOT NULL,
    leaf         BLOB NOT NULL,
    batch_id     BIGINT,
    leaf_index   BIGINT
);
CREATE UNIQUE INDEX attestations_event_id ON attestations (platform_id, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX attestations_unbatched ON attestations (platform_id, seq) WHERE batch_id IS NULL;
CREATE INDEX attestations_batch ON attestations (batch_id, leaf_index);
CREATE INDEX attestations_worker ON attestations (platform_id, worker_ref);

-- One answer per (platform, Idempotency-Key): a retried request gets the first answer back.
CREATE TABLE idempotency_keys (
    platform_id  BIGINT NOT NULL,
    key          TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    status       BIGINT NOT NULL,
    response     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (platform_id, key)
);

-- Batches the node built. On-chain facts about them live in chain_batches (indexed).
CREATE TABLE batches (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id  BIGINT NOT NULL,
    root         BLOB NOT NULL,
    count        BIGINT NOT NULL,
    cid          TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('built', 'submitted', 'anchored', 'failed')),
    tx_hash      BLOB,
    error        TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX batches_status ON batches (status, id);
CREATE INDEX batches_root ON batches (platform_id, root);

-- Indexer progress: the last block recorded, with its hash.
CREATE TABLE indexer_cursor (
    chain_id         BIGINT PRIMARY KEY,
    block_number     BIGINT NOT NULL,
    block_hash       BLOB NOT NULL,
    head_number      BIGINT NOT NULL,
    finalized_number BIGINT NOT NULL,
    reorgs           BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

-- Recent (unfinalized) blocks: the window in which reorganisations are detected and undone.
CREATE TABLE chain_blocks (
    chain_id    BIGINT NOT NULL,
    number      BIGINT NOT NULL,
    hash        BLOB NOT NULL,
    parent_hash BLOB NOT NULL,
    PRIMARY KEY (chain_id, number)
);

-- Decoded contract events. Natural key (chain_id, block_hash, log_index): replays change nothing.
CREATE TABLE chain_platform_events (
    chain_id     BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    block_hash   BLOB NOT NULL,
    log_index    BIGINT NOT NULL,
    tx_hash      BLOB NOT NULL,
    contract     BLOB NOT NULL,
    platform_id  BIGINT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('registered', 'updated', 'suspended', 'reinstated')),
    signer       BLOB,
    profile_cid  TEXT,
    reason_code  BIGINT,
    PRIMARY KEY (chain_id, block_hash, log_index)
);
CREATE INDEX chain_platform_events_platform ON chain_platform_events (chain_id, platform_id, block_number, log_index);
CREATE INDEX chain_platform_events_block ON chain_platform_events (chain_id, block_number);

CREATE TABLE chain_batches (
    chain_id     BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    block_hash   BLOB NOT NULL,
    log_index    BIGINT NOT NULL,
    tx_hash      BLOB NOT NULL,
    contract     BLOB NOT NULL,
    batch_id     BIGINT NOT NULL,
    platform_id  BIGINT NOT NULL,
    root         BLOB NOT NULL,
    count        BIGINT NOT NULL,
    cid          TEXT NOT NULL,
    PRIMARY KEY (chain_id, block_hash, log_index)
);
CREATE INDEX chain_batches_root ON chain_batches (chain_id, platform_id, root);
CREATE INDEX chain_batches_block ON chain_batches (chain_id, block_number);
CREATE INDEX chain_batches_id ON chain_batches (chain_id, batch_id);
CREATE INDEX chain_batches_cid ON chain_batches (chain_id, cid);

CREATE TABLE chain_revocations (
    chain_id     BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    block_hash   BLOB NOT NULL,
    log_index    BIGINT NOT NULL,
    tx_hash      BLOB NOT NULL,
    contract     BLOB NOT NULL,
    batch_id     BIGINT NOT NULL,
    leaf         BLOB NOT NULL,
    reason_code  BIGINT NOT NULL,
    PRIMARY KEY (chain_id, block_hash, log_index)
);
CREATE INDEX chain_revocations_leaf ON chain_revocations (chain_id, batch_id, leaf);
CREATE INDEX chain_revocations_block ON chain_revocations (chain_id, block_number);

CREATE TABLE chain_roots (
    chain_id       BIGINT NOT NULL,
    block_number   BIGINT NOT NULL,
    block_hash     BLOB NOT NULL,
    log_index      BIGINT NOT NULL,
    tx_hash        BLOB NOT NULL,
    contract       BLOB NOT NULL,
    epoch          BIGINT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('published', 'replaced')),
    root           BLOB,
    snapshot_cid   TEXT,
    params_version BIGINT,
    expires_at     BIGINT,
    PRIMARY KEY (chain_id, block_hash, log_index)
);
CREATE INDEX chain_roots_epoch ON chain_roots (chain_id, epoch);
CREATE INDEX chain_roots_block ON chain_roots (chain_id, block_number);

CREATE TABLE chain_evidence (
    chain_id     BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    block_hash   BLOB NOT NULL,
    log_index    BIGINT NOT NULL,
    tx_hash      BLOB NOT NULL,
    contract     BLOB NOT NULL,
    checkpoint   BIGINT NOT NULL,
    root         BLOB NOT NULL,
    size         BIGINT NOT NULL,
    cid          TEXT NOT NULL,
    PRIMARY KEY (chain_id, block_hash, log_index)
);
CREATE INDEX chain_evidence_size ON chain_evidence (chain_id, size);
CREATE INDEX chain_evidence_block ON chain_evidence (chain_id, block_number);

-- IPFS documents named on chain: fetched apart from chain following, every byte checked.
CREATE TABLE ipfs_objects (
    cid             TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'fetched', 'invalid', 'gave_up')),
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    size            BIGINT,
    error           TEXT,
    first_seen_at   BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX ipfs_objects_due ON ipfs_objects (status, next_attempt_at);
