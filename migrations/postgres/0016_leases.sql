-- Leases of the singleton jobs (indexer, anchor, evidence, epoch, ...): one row per job, naming
-- the instance that runs it, a fencing token raised on every change of holder, and when the
-- lease runs out (unix milliseconds). Every write of a leased job checks its token in its own
-- transaction, so a holder that lost its lease cannot write after its successor started.
-- Append-only: never edit a migration that has shipped.
CREATE TABLE leases (
    job         TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    token       BIGINT NOT NULL,
    acquired_at BIGINT NOT NULL,
    renewed_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
