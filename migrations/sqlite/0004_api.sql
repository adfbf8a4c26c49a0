-- Verification API (SQLite): consumed proof nullifiers, issued credentials and their revocation
-- bits, platform webhook secrets, outgoing webhook subscriptions and deliveries.
-- Append-only: never edit a migration that has shipped. Times are unix seconds.

-- A nullifier is consumed once per scope: the primary key is what makes a replay answer 409.
CREATE TABLE proof_nullifiers (
    scope       BLOB NOT NULL,
    nullifier   BLOB NOT NULL,
    epoch       BIGINT NOT NULL,
    root        BLOB NOT NULL,
    key_id      TEXT NOT NULL,
    verified_at BIGINT NOT NULL,
    PRIMARY KEY (scope, nullifier)
);

-- Credentials the node issued. `seq` - 1 is the position in the status lists: list
-- (seq - 1) / 131072 + 1, index (seq - 1) % 131072.
CREATE TABLE credentials (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    worker      TEXT NOT NULL,
    epoch       BIGINT NOT NULL,
    issued_at   BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    revoked_at  BIGINT,
    reason      TEXT
);
CREATE INDEX credentials_worker ON credentials (worker, seq);
CREATE INDEX credentials_revoked ON credentials (revoked_at) WHERE revoked_at IS NOT NULL;

-- The secret a platform signs its incoming webhooks (events) with. Kept in the clear: HMAC needs
-- it; the API shows it once, when it is created.
CREATE TABLE platform_webhook_secrets (
    platform_id BIGINT PRIMARY KEY,
    secret      BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Outgoing webhooks: a platform's endpoint and the event types it wants.
CREATE TABLE webhook_subscriptions (
    id          TEXT PRIMARY KEY,
    platform_id BIGINT NOT NULL,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    secret      BLOB NOT NULL,
    created_at  BIGINT NOT NULL,
    deleted_at  BIGINT
);
CREATE INDEX webhook_subscriptions_platform ON webhook_subscriptions (platform_id, id);

-- One delivery per (event, subscription), retried until delivered or dead. `event_id` is the
-- receiver's idempotency key: the same across retries and replays.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id),
    platform_id     BIGINT NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_status     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (event_id, subscription_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_platform ON webhook_deliveries (platform_id, status, id);

-- How far the webhook producer has read each source (finalized batches, verdicts, epochs).
CREATE TABLE webhook_cursors (
    source   TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);
