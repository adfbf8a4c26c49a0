-- The API's per-key rate limits, shared by every replica: one token bucket per key, charged in
-- one statement (INSERT ... ON CONFLICT DO UPDATE ... RETURNING) at the database's clock.
-- UNLOGGED: a crash empties the table, which only refills the buckets; nothing is lost that
-- matters, and no write goes through the WAL. Append-only: never edit a migration that has shipped.
CREATE UNLOGGED TABLE rate_buckets (
    key TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    admitted BOOLEAN NOT NULL
);
