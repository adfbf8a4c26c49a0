-- Proof of reality (SQLite): tasks, witness keys, evidence files and the append-only evidence log.
-- Append-only: never edit a migration that has shipped. Times are unix seconds.

-- Witness keys a platform registered. `registered_at` is the node's clock, so a key cannot be
-- registered "before" a task after the fact.
CREATE TABLE evidence_witnesses (
    platform_id   BIGINT NOT NULL,
    witness_key   BLOB NOT NULL,
    label         TEXT NOT NULL,
    registered_at BIGINT NOT NULL,
    PRIMARY KEY (platform_id, witness_key)
);

-- Physical tasks a platform expects evidence for. `request_hash` makes creation idempotent.
CREATE TABLE evidence_tasks (
    id              TEXT PRIMARY KEY,
    platform_id     BIGINT NOT NULL,
    external_id     TEXT NOT NULL,
    task_type       TEXT NOT NULL,
    worker_ref      TEXT NOT NULL,
    worker_key      BLOB NOT NULL,
    window_start    BIGINT NOT NULL,
    window_end      BIGINT NOT NULL,
    latitude        DOUBLE PRECISION NOT NULL,
    longitude       DOUBLE PRECISION NOT NULL,
    radius_m        DOUBLE PRECISION,
    request_hash    BLOB NOT NULL,
    nonce           TEXT,
    nonce_issued_at BIGINT,
    created_at      BIGINT NOT NULL,
    UNIQUE (platform_id, external_id)
);

-- Every distinct file the node accepted. `leaf_index` is its position in the evidence log: dense
-- from 0, assigned once, never changed.
CREATE TABLE evidence_files (
    sha256        BLOB PRIMARY KEY,
    leaf_index    BIGINT NOT NULL UNIQUE,
    salt          BLOB NOT NULL,
    metadata_hash BLOB NOT NULL,
    leaf_hash     BLOB NOT NULL,
    media_type    TEXT NOT NULL,
    size          BIGINT NOT NULL,
    metadata      TEXT NOT NULL,
    phash         BIGINT,
    created_at    BIGINT NOT NULL
);

-- The log's size; the one row is updated by every append, which serialises appenders.
CREATE TABLE evidence_log_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL
);
INSERT INTO evidence_log_head (id, size) VALUES (1, 0);

-- Which file was submitted on which task; `seq` orders submissions ("earlier" for the rules).
CREATE TABLE evidence_submissions (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id      TEXT NOT NULL REFERENCES evidence_tasks (id),
    sha256       BLOB NOT NULL REFERENCES evidence_files (sha256),
    submitted_by TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    UNIQUE (task_id, sha256)
);
CREATE INDEX evidence_submissions_sha256 ON evidence_submissions (sha256, seq);

-- Witness statements received for a task, as sent (verified by the rules, not on receipt).
CREATE TABLE evidence_witness_statements (
    task_id     TEXT NOT NULL REFERENCES evidence_tasks (id),
    witness_key BLOB NOT NULL,
    signed_at   BIGINT NOT NULL,
    signature   BLOB NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (task_id, witness_key, signature)
);

-- Every evaluation of a task's evidence; the latest is the task's verdict.
CREATE TABLE evidence_verdicts (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id      TEXT NOT NULL REFERENCES evidence_tasks (id),
    outcome      TEXT NOT NULL CHECK (outcome IN ('pass', 'warn', 'fail')),
    verdict      TEXT NOT NULL,
    evaluated_at BIGINT NOT NULL
);
CREATE INDEX evidence_verdicts_task ON evidence_verdicts (task_id, seq);

-- Log heads the node anchors with anchorEvidence(root, size, cid), one in flight at a time.
CREATE TABLE evidence_checkpoints (
    size          BIGINT PRIMARY KEY,
    root          BLOB NOT NULL,
    previous_size BIGINT NOT NULL,
    cid           TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('built', 'submitted', 'anchored', 'failed')),
    tx_hash       BLOB,
    error         TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX evidence_checkpoints_status ON evidence_checkpoints (status, size);
